/* dupshare.c - dup2 / F_DUPFD_CLOEXEC copies share one membership until the last is closed. */
#include "util.h"

int main(void)
{
    int fd, d, fl;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open_dev(O_RDWR, "DS");

    if (dup2(fd, 10) < 0) {
        report("dup2", -1);
        return 1;
    }
    close(fd);
    if (write(10, "via dup2", 8) < 0)
        report("write_dup2", -1);
    printf("dup2: ok\n");

    d = fcntl(10, F_DUPFD_CLOEXEC, 20);
    if (d < 0) {
        report("dupfd", -1);
        return 1;
    }
    printf("dupfd: %d\n", d);
    fl = fcntl(d, F_GETFD);
    if (fl < 0)
        report("cloexec", -1);
    else
        printf("cloexec: %d\n", (fl & FD_CLOEXEC) ? 1 : 0);
    if (write(d, "via dupfd", 9) < 0)
        report("write_dupfd", -1);

    close(10);
    printf("closed 10\n");
    wait_stdin_line();

    if (write(d, "still open", 10) < 0)
        report("write_still_open", -1);
    close(d);
    printf("done\n");
    return 0;
}
