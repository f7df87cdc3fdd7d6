/* storm.c - many cheap syscalls (getppid, 1-byte writes to /dev/null) pass through the supervisor. */
#include "util.h"
#include <sys/syscall.h>

int main(int argc, char *argv[])
{
    long i, n;
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: storm N\n");
        return 2;
    }
    n = atol(argv[1]);

    for (i = 0; i < n; i++)
        syscall(SYS_getppid);

    fd = open("/dev/null", O_WRONLY);
    if (fd < 0) {
        report("open_devnull", -1);
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (write(fd, "x", 1) != 1) {
            report("write", -1);
            return 1;
        }
    }
    close(fd);

    printf("storm: %ld\n", n);
    printf("done\n");
    return 0;
}
