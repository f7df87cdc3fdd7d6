/* devopen PATH: open a device node, read 4 bytes, write 2, say what happened. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    unsigned char b[4] = {9, 9, 9, 9};
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        printf("open: %s\n", errno == ENXIO ? "ENXIO" : strerror(errno));
        return 1;
    }
    int n = read(fd, b, 4);
    printf("read %d: %d %d %d %d\n", n, b[0], b[1], b[2], b[3]);
    printf("write %d\n", (int)write(fd, "xy", 2));
    return 0;
}
