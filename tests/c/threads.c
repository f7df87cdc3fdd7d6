/* threads.c - a thread blocked in a device read does not stop the other thread from running. */
#include "util.h"
#include <pthread.h>
#include <time.h>

static int fd;

static void *reader(void *arg)
{
    char buf[MSGBUF_SIZE];
    ssize_t n;

    (void)arg;
    do
        n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        report("reader", -1);
    else
        print_msg("reader", buf, n);
    return NULL;
}

int main(void)
{
    struct timespec ms = { 0, 1000000 };
    pthread_t tid;
    int i, err;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open_dev(O_RDWR, "TH");

    err = pthread_create(&tid, NULL, reader, NULL);
    if (err != 0) {
        errno = err;
        report("pthread_create", -1);
        return 1;
    }

    for (i = 1; i <= 5; i++) {
        printf("main: tick %d\n", i);
        nanosleep(&ms, NULL);
    }
    printf("ticks done\n");

    pthread_join(tid, NULL);
    printf("done\n");
    return 0;
}
