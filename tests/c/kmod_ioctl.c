/* kmod_ioctl DEV N: ioctl(DEV, _IO('b', N), &value) and print the result */
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <string.h>
#include <linux/ioctl.h>

int main(int argc, char *argv[])
{
    int value = 21;
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        printf("open failed: %s\n", strerror(errno));
        exit(-1);
    }
    int r = ioctl(fd, _IO('b', atoi(argv[2])), &value);
    printf("ioctl %s returned %d\n", argv[2], r);
    close(fd);
    return 0;
}
