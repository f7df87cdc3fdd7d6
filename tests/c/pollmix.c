/* pollmix.c - poll/select/epoll readiness of the device mixed with a stdin pipe. */
#include "util.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

enum api { API_POLL, API_SELECT, API_EPOLL };

/* Wait (no timeout) until stdin and/or the device are readable. */
static int wait_ready(enum api api, int devfd, int epfd, int *in_ready, int *dev_ready)
{
    *in_ready = *dev_ready = 0;

    if (api == API_POLL) {
        struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { devfd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0)
            return -1;
        *in_ready = p[0].revents != 0;
        *dev_ready = p[1].revents != 0;
    } else if (api == API_SELECT) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(STDIN_FILENO, &rd);
        FD_SET(devfd, &rd);
        if (select(devfd + 1, &rd, NULL, NULL, NULL) < 0)
            return -1;
        *in_ready = FD_ISSET(STDIN_FILENO, &rd);
        *dev_ready = FD_ISSET(devfd, &rd);
    } else {
        struct epoll_event ev[2];
        int i, n = epoll_wait(epfd, ev, 2, -1);
        if (n < 0)
            return -1;
        for (i = 0; i < n; i++) {
            if (ev[i].data.fd == STDIN_FILENO)
                *in_ready = 1;
            else if (ev[i].data.fd == devfd)
                *dev_ready = 1;
        }
    }
    return 0;
}

/* Read one line from stdin a byte at a time, so nothing past it is consumed.
 * Returns its length without the newline, or -1 on EOF before any byte. */
static int read_line(char *buf, size_t size)
{
    size_t len = 0;
    char c;

    for (;;) {
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return len ? (int)len : -1;
        if (c == '\n')
            break;
        if (len < size - 1)
            buf[len++] = c;
    }
    buf[len] = '\0';
    return (int)len;
}

int main(int argc, char *argv[])
{
    char buf[MSGBUF_SIZE];
    enum api api;
    int devfd, epfd = -1, i, count;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3) {
        fprintf(stderr, "usage: pollmix poll|select|epoll N\n");
        return 2;
    }
    if (strcmp(argv[1], "poll") == 0)
        api = API_POLL;
    else if (strcmp(argv[1], "select") == 0)
        api = API_SELECT;
    else if (strcmp(argv[1], "epoll") == 0)
        api = API_EPOLL;
    else {
        fprintf(stderr, "usage: pollmix poll|select|epoll N\n");
        return 2;
    }
    count = atoi(argv[2]);

    devfd = open_dev(O_RDWR, "PM");
    if (api == API_EPOLL) {
        struct epoll_event ev = { .events = EPOLLIN };
        epfd = epoll_create1(0);
        if (epfd < 0) {
            report("epoll_create1", -1);
            return 1;
        }
        ev.data.fd = STDIN_FILENO;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0) {
            report("epoll_ctl_stdin", -1);
            return 1;
        }
        ev.data.fd = devfd;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, devfd, &ev) < 0) {
            report("epoll_ctl_dev", -1);
            return 1;
        }
    }
    printf("ready\n");

    for (i = 0; i < count; i++) {
        int in_ready, dev_ready;

        if (wait_ready(api, devfd, epfd, &in_ready, &dev_ready) < 0) {
            report(argv[1], -1);
            return 1;
        }
        if (in_ready)
            printf("ready: stdin\n");
        if (dev_ready)
            printf("ready: dev\n");

        if (in_ready) {
            if (read_line(buf, sizeof buf) < 0) {
                printf("stdin: EOF\n");
                break;
            }
            printf("stdin: %s\n", buf);
        }
        if (dev_ready) {
            ssize_t n = read(devfd, buf, sizeof buf);
            if (n < 0)
                report("dev", -1);
            else
                print_msg("dev", buf, n);
        }
    }

    printf("done\n");
    return 0;
}
