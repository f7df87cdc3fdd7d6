/* A chat client with a "keep my name" thread, as a student wrote it: the
 * thread sets the name again and again, in case the room forgot it. Every
 * one of those ioctls stops the program for the supervisor, so a signal
 * sent to the whole program is most often taken by that thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include "chatroom.h"

int fd;
char name[32];

void *keep_name(void *arg)
{
    while (1) {
        if (ioctl(fd, CHATROOM_IOC_SET_NAME, name) < 0) {
            printf("ioctl failed\n");
            exit(-1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char line[1100];
    pthread_t t;

    strcpy(name, argv[1]);
    fd = open("/dev/chatroom", O_RDWR);
    if (fd < 0) {
        printf("cant open\n");
        exit(-1);
    }
    ioctl(fd, CHATROOM_IOC_SET_NAME, name);
    pthread_create(&t, NULL, keep_name, NULL);
    while (1) {
        printf("%s> ", name);
        fflush(stdout);
        if (fgets(line, sizeof(line), stdin) == NULL)
            break;
        line[strcspn(line, "\n")] = 0;
        if (strlen(line) > 0)
            write(fd, line, strlen(line));
    }
    return 0;
}
