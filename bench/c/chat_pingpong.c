/* chat_pingpong.c - two chat room members ping-pong M messages through the device.
 *
 * Usage: chat_pingpong pong M [PATH]   (start first; prints "ready" once a member)
 *        chat_pingpong ping M [PATH]   (then this one; prints the round-trip time)
 * ping writes a message and reads until pong's reply ("pong: ...") arrives, M
 * times; pong answers each "ping: ..." message. Notices are skipped. */
#include "bench.h"
#include "chatroom.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char payload[16] = "0123456789abcdef";

/* Read messages until one starts with `prefix`. */
static void read_from(int fd, const char *prefix)
{
    char buf[CHATROOM_MSG_MAX + 64];
    size_t len = strlen(prefix);
    ssize_t n;

    for (;;) {
        n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        if ((size_t)n >= len && memcmp(buf, prefix, len) == 0)
            return;
    }
}

int main(int argc, char *argv[])
{
    const char *path = argc > 3 ? argv[3] : CHATROOM_DEVICE;
    long i, m;
    long long t0, t1;
    int fd, ping;

    if (argc < 3 || (strcmp(argv[1], "ping") != 0 && strcmp(argv[1], "pong") != 0)) {
        fprintf(stderr, "usage: chat_pingpong ping|pong M [PATH]\n");
        return 2;
    }
    ping = strcmp(argv[1], "ping") == 0;
    m = atol(argv[2]);
    fd = open(path, O_RDWR);
    if (fd < 0)
        die(path);
    if (ioctl(fd, CHATROOM_IOC_SET_NAME, argv[1]) != 0)
        die("ioctl");
    printf("ready\n");
    fflush(stdout);

    if (!ping) {
        for (i = 0; i < m; i++) {
            read_from(fd, "ping: ");
            if (write(fd, payload, sizeof payload) != (ssize_t)sizeof payload)
                die("write");
        }
        return 0;
    }
    t0 = now_ns();
    for (i = 0; i < m; i++) {
        if (write(fd, payload, sizeof payload) != (ssize_t)sizeof payload)
            die("write");
        read_from(fd, "pong: ");
    }
    t1 = now_ns();
    printf("round_trips=%ld rt_ns=%.1f\n", m, (double)(t1 - t0) / m);
    return 0;
}
