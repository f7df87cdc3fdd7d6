/* sigread.c - a blocking device read interrupted by a signal: EINTR or SA_RESTART restart. */
#include "util.h"
#include <signal.h>

static void on_alarm(int sig)
{
    ssize_t r;

    (void)sig;
    r = write(STDOUT_FILENO, "handler\n", 8);
    (void)r;
}

int main(int argc, char *argv[])
{
    char buf[MSGBUF_SIZE];
    struct sigaction sa;
    ssize_t n;
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2 || (strcmp(argv[1], "restart") != 0 && strcmp(argv[1], "norestart") != 0)) {
        fprintf(stderr, "usage: sigread restart|norestart\n");
        return 2;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = strcmp(argv[1], "restart") == 0 ? SA_RESTART : 0;
    if (sigaction(SIGALRM, &sa, NULL) < 0) {
        report("sigaction", -1);
        return 1;
    }

    fd = open_dev(O_RDWR, "SR");
    printf("ready\n");

    alarm(2);
    n = read(fd, buf, sizeof buf);
    if (n < 0)
        report("read", -1);
    else
        printf("read: %zd %.*s\n", n, (int)n, buf);

    printf("done\n");
    return 0;
}
