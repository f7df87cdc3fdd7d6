/* sigstorm.c - device calls under a storm of signals: none is lost or done twice.
 *
 * Usage: sigstorm storm N | sigstorm block.
 * storm: two members in one process (SA writes, SB reads); while SA writes N
 * messages (draining SB after each), a second thread sends the writer SIGALRM
 * (no SA_RESTART) at a random moment of each round. The next signal waits for
 * the writer's next round, so signals never outpace it (a 50 us timer did: when
 * a traced signal stop took longer than that, the writer ran only handlers and
 * never finished). None of these calls sleeps, so none may fail with EINTR (as with the
 * kernel's own driver), and each is done exactly once. Prints
 * "sent=S eintr=E received=R ticks=T": S == R == N and E == 0 whatever the timing.
 * block: prints "ready" and sleeps in a read of the device (for Ctrl-C).
 */
#include "util.h"
#include <pthread.h>
#include <signal.h>

static volatile sig_atomic_t ticks;
static volatile long rounds; /* the writer's progress */
static volatile int storming = 1;
static pthread_t writer;

/* One SIGALRM per round of the writer, after a random spin (a few us) so that
 * it lands anywhere in the round's write or reads. */
static void *stormer(void *arg)
{
    unsigned seed = 12345;
    long seen = -1;
    (void)arg;
    while (storming) {
        if (rounds == seen)
            continue;
        seen = rounds;
        for (volatile unsigned spin = rand_r(&seed) % 20000; spin > 0; spin--)
            ;
        pthread_kill(writer, SIGALRM);
    }
    return NULL;
}

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
    pthread_t th;
    writer = pthread_self();
    if (pthread_create(&th, NULL, stormer, NULL) != 0)
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
        rounds++;
    }
    storming = 0;
    pthread_join(th, NULL);
    received += drain(b);
    printf("sent=%ld eintr=%ld received=%ld ticks=%ld\n", sent, eintr, received, (long)ticks);
    return 0;
}
