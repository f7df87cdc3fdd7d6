/* mqfifo send MSG...: queue each message; mqfifo recv: wait for one, print it
 * and how many are left (the MQ_IOC_COUNT ioctl of the course's mq.h) */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MQ_IOC_COUNT _IOR('q', 1, int)

int main(int argc, char **argv)
{
    char buf[256];
    int i, n, left;
    int fd = open("/dev/mq", O_RDWR);
    if (fd < 0) {
        perror("/dev/mq");
        return 1;
    }
    if (strcmp(argv[1], "send") == 0) {
        for (i = 2; i < argc; i++)
            write(fd, argv[i], strlen(argv[i]));
        return 0;
    }
    n = read(fd, buf, sizeof buf);
    ioctl(fd, MQ_IOC_COUNT, &left);
    printf("got %.*s, %d left\n", n, buf, left);
    return 0;
}
