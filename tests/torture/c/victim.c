/* victim.c - a chat member that gets killed.
 *
 *   victim NAME read|write|spin|idle
 *
 * Joins as NAME, prints "ready", then: read blocks in read(); write writes
 * until the device blocks it (full=block and a member that never reads);
 * spin loops forever; idle never reads and leaves at the end of stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "../../../cprogs/chatroom.h"

int main(int argc, char **argv)
{
    char name[CHATROOM_NAME_MAX] = {0};
    char buf[2048];
    int fd;
    volatile unsigned long spins = 0;

    strncpy(name, argv[1], sizeof name - 1);
    fd = open(CHATROOM_DEVICE, O_RDWR);
    if (fd < 0 || ioctl(fd, CHATROOM_IOC_SET_NAME, name) < 0) {
        perror("victim");
        exit(-1);
    }
    printf("ready\n");
    fflush(stdout);
    if (!strcmp(argv[2], "read")) {
        for (;;)
            read(fd, buf, sizeof buf);
    } else if (!strcmp(argv[2], "write")) {
        for (;;)
            write(fd, "x", 1);
    } else if (!strcmp(argv[2], "spin")) {
        for (;;)
            spins++;
    } else {
        while (fgets(buf, sizeof buf, stdin))
            ;
    }
    return 0;
}
