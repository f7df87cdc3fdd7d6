/* slotops.c - K of each message_slot operation, timed per operation.
 *
 * Usage: slotops K. Makes /dev/message_slot (mknod, major 235) and opens it,
 * then does K ioctl(IOCTL_SET_CHANNEL, 1), K writes of a 10-byte message and K
 * reads of 128 bytes, and prints ns per operation of each kind. The same
 * program runs against the built-in Python device and against a message_slot
 * kernel module hosted by ptsandbox (bench measure 7). */
#include "bench.h"
#include "message_slot.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    static const char msg[10] = "0123456789";
    char buf[BUF_LEN];
    long i, k;
    long long t0, t1, t2, t3;
    int fd;

    if (argc != 2) {
        fprintf(stderr, "usage: slotops K\n");
        return 2;
    }
    k = atol(argv[1]);
    if (mknod(DEVICE_FILE_NAME, S_IFCHR | 0666, makedev(MAJOR_NUM, 0)) != 0 && errno != EEXIST)
        die("mknod");
    fd = open(DEVICE_FILE_NAME, O_RDWR);
    if (fd < 0)
        die(DEVICE_FILE_NAME);

    t0 = now_ns();
    for (i = 0; i < k; i++)
        if (ioctl(fd, IOCTL_SET_CHANNEL, 1UL) != 0)
            die("ioctl");
    t1 = now_ns();
    for (i = 0; i < k; i++)
        if (write(fd, msg, sizeof msg) != (ssize_t)sizeof msg)
            die("write");
    t2 = now_ns();
    for (i = 0; i < k; i++)
        if (read(fd, buf, sizeof buf) < (ssize_t)sizeof msg)
            die("read");
    t3 = now_ns();

    printf("ioctl_ns=%.1f write_ns=%.1f read_ns=%.1f\n", (double)(t1 - t0) / k,
           (double)(t2 - t1) / k, (double)(t3 - t2) / k);
    close(fd);
    return 0;
}
