// lazyreader.c - joins, says who it is, then does not read until you press enter.
// then it reads what piled up: first with a tiny buffer, then a bad pointer,
// then normally until nothing is left (non-blocking).
// (written like the course's test programs: no argc check, printf without fflush)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/ioctl.h>
#include "../../cprogs/chatroom.h"

int main(int argc, char **argv)
{
    char name[CHATROOM_NAME_MAX];
    char line[100];
    char small[5];
    char buf[2000];
    int fd, n, count = 0;

    fd = open("/dev/chatroom", O_RDWR);
    if (fd < 0) {
        perror("open");
        exit(-1);
    }
    strcpy(name, argv[1]);
    if (ioctl(fd, CHATROOM_IOC_SET_NAME, name) < 0) {
        perror("ioctl");
        exit(-1);
    }
    printf("waiting\n");
    fflush(stdout); // the test needs to see this before it writes
    fgets(line, sizeof line, stdin);

    n = read(fd, small, 4);
    small[n > 0 ? n : 0] = 0;
    printf("small read %d [%s]\n", n, small);

    n = read(fd, (char *)8, sizeof buf); // oops
    printf("bad pointer read %d %s\n", n, n < 0 ? strerrorname_np(errno) : "");

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        buf[n] = 0;
        printf("got [%s]\n", buf);
        count++;
    }
    printf("then %d %s after %d messages\n", n, strerrorname_np(errno), count);
    close(fd);
    return 0;
}
