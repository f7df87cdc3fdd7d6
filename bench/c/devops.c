/* devops.c - K of each non-blocking device operation, timed per operation.
 *
 * Usage: devops PATH K [nocheck]. Opens PATH with O_RDWR|O_NONBLOCK, then does
 * K ioctl(CHATROOM_IOC_SET_NAME), K writes of a 10-byte message and K reads of
 * an empty queue (EAGAIN), and prints ns per operation of each kind. Alone in
 * the chat room, nothing queues: every operation is one emulated call. Results
 * are checked (0, 10, EAGAIN) unless `nocheck` (for a native /dev/null run). */
#include "bench.h"
#include "chatroom.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    static const char name[] = "bench";
    static const char msg[10] = "0123456789";
    char buf[CHATROOM_MSG_MAX + 64];
    long i, k;
    ssize_t n;
    long long t0, t1, t2, t3;
    int fd, check;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: devops PATH K [nocheck]\n");
        return 2;
    }
    k = atol(argv[2]);
    check = !(argc == 4 && strcmp(argv[3], "nocheck") == 0);
    fd = open(argv[1], O_RDWR | O_NONBLOCK);
    if (fd < 0)
        die(argv[1]);

    t0 = now_ns();
    for (i = 0; i < k; i++)
        if (ioctl(fd, CHATROOM_IOC_SET_NAME, name) != 0 && check)
            die("ioctl");
    t1 = now_ns();
    for (i = 0; i < k; i++)
        if (write(fd, msg, sizeof msg) != (ssize_t)sizeof msg && check)
            die("write");
    t2 = now_ns();
    for (i = 0; i < k; i++) {
        n = read(fd, buf, sizeof buf);
        if (check && !(n == -1 && errno == EAGAIN)) {
            fprintf(stderr, "read: expected EAGAIN, got %zd (%s)\n", n,
                    n < 0 ? strerror(errno) : "data");
            return 1;
        }
    }
    t3 = now_ns();

    printf("ioctl_ns=%.1f write_ns=%.1f read_ns=%.1f\n", (double)(t1 - t0) / k,
           (double)(t2 - t1) / k, (double)(t3 - t2) / k);
    close(fd);
    return 0;
}
