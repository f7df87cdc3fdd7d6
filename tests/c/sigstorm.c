/* sigstorm.c - device calls under a storm of signals: none is lost or done twice.
 *
 * Usage: sigstorm storm N | sigstorm block.
 * storm: two members in one process (SA writes, SB reads); a timer signal
 * without SA_RESTART every 50 us while SA writes N messages, draining SB after
 * each. None of these calls sleeps, so none may fail with EINTR (as with the
 * kernel's own driver), and each is done exactly once. Prints
 * "sent=S eintr=E received=R ticks=T": S == R == N and E == 0 whatever the timing.
 * block: prints "ready" and sleeps in a read of the device (for Ctrl-C).
 */
#include "util.h"
#include <signal.h>
#include <sys/time.h>

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

static long drain(int fd)
{
    char buf[MSGBUF_SIZE];
    long got = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break; /* EAGAIN: empty */
        if (n >= 4 && memcmp(buf, "SA: ", 4) == 0)
            got++;
    }
    return got;
}

int main(int argc, char *argv[])
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "block") == 0) {
        char buf[MSGBUF_SIZE];
        int fd = open_dev(O_RDWR, "BL");
        printf("ready\n");
        ssize_t n = read(fd, buf, sizeof buf);
        report("read", n);
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "storm") != 0) {
        fprintf(stderr, "usage: sigstorm storm N | sigstorm block\n");
        return 2;
    }
    long n = atol(argv[2]), sent = 0, eintr = 0, received = 0;
    int a = open_dev(O_RDWR, "SA");
    int b = open_dev(O_RDWR | O_NONBLOCK, "SB");
    received = drain(b); /* SA's join notice is not a message */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: an interrupted call fails with EINTR */
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        return 1;
    struct itimerval every = {{0, 50}, {0, 50}};
    if (setitimer(ITIMER_REAL, &every, NULL) < 0)
        return 1;
    for (long i = 0; i < n; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "m%ld", i);
        ssize_t w = write(a, msg, len);
        if (w == len)
            sent++;
        else if (w < 0 && errno == EINTR)
            eintr++;
        else {
            report("write", w);
            return 1;
        }
        received += drain(b);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    received += drain(b);
    printf("sent=%ld eintr=%ld received=%ld ticks=%ld\n", sent, eintr, received, (long)ticks);
    return 0;
}
