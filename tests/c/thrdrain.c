/* thrdrain.c - one thread reads every queued message, then another polls. */
#include "util.h"
#include <pthread.h>
#include <poll.h>

int fd;

void *drain(void *arg)
{
    char buf[MSGBUF_SIZE];
    int i;
    ssize_t n;

    for (i = 0; i < 2; i++) {
        n = read(fd, buf, sizeof buf);
        if (n < 0)
            report("read", -1);
        else
            print_msg("drained", buf, n);
    }
    return NULL;
}

int main()
{
    struct pollfd p;
    pthread_t t;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open_dev(O_RDWR, "TD");
    printf("joined\n");
    wait_stdin_line(); /* the test has queued two messages */
    p.fd = fd;
    p.events = POLLIN;
    report("poll before", poll(&p, 1, 0));
    pthread_create(&t, NULL, drain, NULL);
    pthread_join(t, NULL);
    report("poll after drain", poll(&p, 1, 0));
    close(fd);
    return 0;
}
