/* thropen.c - the device is opened, used and closed by a second thread. */
#include "util.h"
#include <pthread.h>
#include <poll.h>

void *chat(void *arg)
{
    char buf[MSGBUF_SIZE];
    struct pollfd p;
    int fd;
    ssize_t n;

    fd = open_dev(O_RDWR, "TO");
    printf("thread opened\n");
    write(fd, "from thread", 11);
    n = read(fd, buf, sizeof buf);
    if (n < 0) {
        report("read", -1);
        exit(-1);
    }
    print_msg("got", buf, n);
    p.fd = fd;
    p.events = POLLIN;
    report("poll after read", poll(&p, 1, 0));
    close(fd);
    return NULL;
}

int main()
{
    pthread_t t;

    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_create(&t, NULL, chat, NULL);
    pthread_join(t, NULL);
    printf("done\n");
    return 0;
}
