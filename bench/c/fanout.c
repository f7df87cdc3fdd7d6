/* fanout.c - one sender, many receiving members of the chat room.
 *
 * Usage: fanout recv N NAME [PATH]  joins as NAME, prints "ready", then reads
 *                                   until it has N messages from "sender" (or
 *                                   the notice "sender left"); prints the count
 *                                   and the CLOCK_MONOTONIC time of the last one.
 *        fanout send N [PATH]       joins as "sender" and writes N messages
 *                                   (blocking while a FIFO is full with full=block).
 * Times are comparable across processes: throughput = deliveries / (last
 * receiver's end - sender's start). */
#include "bench.h"
#include "chatroom.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char prefix[] = "sender: ";
static const char left[] = "sender left";

static int join(const char *path, const char *name)
{
    int fd = open(path, O_RDWR);

    if (fd < 0)
        die(path);
    if (ioctl(fd, CHATROOM_IOC_SET_NAME, name) != 0)
        die("ioctl");
    return fd;
}

static int receive(long n, const char *name, const char *path)
{
    char buf[CHATROOM_MSG_MAX + 64];
    long got = 0, other = 0;
    long long end = 0;
    ssize_t r;
    int fd = join(path, name);

    printf("ready\n");
    fflush(stdout);
    while (got < n) {
        r = read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        if ((size_t)r >= sizeof prefix - 1 && memcmp(buf, prefix, sizeof prefix - 1) == 0) {
            got++;
            end = now_ns();
        } else if ((size_t)r == sizeof left - 1 && memcmp(buf, left, sizeof left - 1) == 0) {
            break;
        } else {
            other++;
        }
    }
    printf("received=%ld notices=%ld end_ns=%lld\n", got, other, end);
    return 0;
}

static int send_all(long n, const char *path)
{
    char msg[64];
    long i;
    long long t0, t1;
    int len, fd = join(path, "sender");

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        len = snprintf(msg, sizeof msg, "message %ld", i);
        if (write(fd, msg, len) != len)
            die("write");
    }
    t1 = now_ns();
    printf("sent=%ld start_ns=%lld end_ns=%lld\n", n, t0, t1);
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc >= 4 && strcmp(argv[1], "recv") == 0)
        return receive(atol(argv[2]), argv[3], argc > 4 ? argv[4] : CHATROOM_DEVICE);
    if (argc >= 3 && strcmp(argv[1], "send") == 0)
        return send_all(atol(argv[2]), argc > 3 ? argv[3] : CHATROOM_DEVICE);
    fprintf(stderr, "usage: fanout recv N NAME [PATH] | fanout send N [PATH]\n");
    return 2;
}
