/* slot2017 DEVICE CHANNEL [MESSAGE]: write MESSAGE, or read and print the channel */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "slot2017.h"

int main(int argc, char *argv[])
{
    char buf[BUF_LEN];
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        perror("open");
        exit(-1);
    }
    if (ioctl(fd, MSG_SLOT_CHANNEL, atoi(argv[2])) < 0) {
        perror("ioctl");
        exit(-1);
    }
    if (argc > 3) {
        int n = write(fd, argv[3], strlen(argv[3]));
        printf("wrote %d\n", n);
    } else {
        int n = read(fd, buf, BUF_LEN);
        if (n < 0) {
            perror("read");
            return -1;
        }
        printf("%.*s\n", n, buf);
    }
    close(fd);
    return 0;
}
