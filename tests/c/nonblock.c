/* nonblock.c - O_NONBLOCK / FIONBIO reads return EAGAIN; F_GETFL reflects flags and access mode. */
#include "util.h"

static void print_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        report("getfl_nonblock", -1);
    else
        printf("getfl_nonblock: %d\n", (fl & O_NONBLOCK) ? 1 : 0);
}

static void print_accmode(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) {
        report("getfl_accmode", -1);
        return;
    }
    switch (fl & O_ACCMODE) {
    case O_RDONLY: printf("getfl_accmode: RDONLY\n"); break;
    case O_WRONLY: printf("getfl_accmode: WRONLY\n"); break;
    case O_RDWR:   printf("getfl_accmode: RDWR\n"); break;
    default:       printf("getfl_accmode: ?\n"); break;
    }
}

int main(void)
{
    char buf[MSGBUF_SIZE];
    int one = 1, fd, fd2, fl;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open_dev(O_RDWR | O_NONBLOCK, NULL);

    report("read", read(fd, buf, sizeof buf));
    print_nonblock(fd);

    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        report("setfl", -1);
    print_nonblock(fd);

    report("fionbio", ioctl(fd, FIONBIO, &one));
    print_nonblock(fd);
    report("read_fionbio", read(fd, buf, sizeof buf));

    fd2 = open(devpath(), O_RDONLY);
    if (fd2 < 0)
        report("open_rdonly", -1);
    print_accmode(fd);
    if (fd2 >= 0)
        print_accmode(fd2);

    printf("done\n");
    return 0;
}
