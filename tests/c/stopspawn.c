/* stopspawn.c - a chat client that starts many reader threads one after another
 * (a SIGSTOP sent meanwhile lands while threads are being born). */
#include "util.h"
#include <pthread.h>

#define READERS 48

int fd;

void *reader(void *arg)
{
    char buf[MSGBUF_SIZE];
    ssize_t n;

    do
        n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        report("reader", -1);
    else
        print_msg("reader", buf, n);
    return NULL;
}

int main()
{
    pthread_t tids[READERS];
    int i;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open_dev(O_RDWR, "SS");
    printf("joined\n");
    for (i = 0; i < READERS; i++)
        if (pthread_create(&tids[i], NULL, reader, NULL) != 0) {
            printf("pthread_create failed\n");
            exit(-1);
        }
    printf("all started\n");
    for (i = 0; i < READERS; i++)
        pthread_join(tids[i], NULL);
    printf("done\n");
    return 0;
}
