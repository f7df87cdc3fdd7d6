/* slot_errors.c - every error (and edge) of the message_slot device, both profiles.
 *
 * Usage: slot_errors DEVICE_PATH seed|tau
 *
 * DEVICE_PATH must be an existing message_slot node, fresh (no message on
 * tau channel 1048578). One "what: ret" / "what: -1 ENAME" line per check
 * (see util.h), then "done". A setup step that fails (open, an ioctl or
 * write the checks depend on) prints its own report line and exits 1.
 *
 * seed: read_no_channel write_no_channel ioctl_wrong_cmd ioctl_index_4
 *       ioctl_index_3 write_200 read_64 read_200 write_bad_ptr read_bad_ptr
 *       zero_fill (1 if channel 2 holds "hi" followed by 126 zero bytes)
 * tau:  read_no_channel write_no_channel ioctl_wrong_cmd ioctl_zero
 *       ioctl_big_id read_empty_channel write_0 write_129 write_bad_ptr
 *       write_hello read_small read_bad_ptr read_hello read_content
 *       ioctl_long_encoding second_fd_same_channel reread
 */
#include "util.h"
#include <stdint.h>

#define SEED_SET_CHANNEL _IOW(235, 0, unsigned long)
#define TAU_SET_CHANNEL  _IOW(235, 0, unsigned int)
#define WRONG_CMD        _IOW(235, 1, unsigned int)

#define SLOT_LEN 128
#define BIG_ID   1048578u            /* 2^20 + 2 */

/* volatile, so the compiler neither warns about nor folds this address */
static void *volatile unmapped = (void *)16;

static const char *path;

static int open_slot(const char *what)
{
    int fd = open(path, O_RDWR);

    if (fd < 0) {
        report(what, -1);
        exit(1);
    }
    return fd;
}

/* A step later checks depend on: silent on success, report and exit on failure. */
static void must(const char *what, long ret)
{
    if (ret < 0) {
        report(what, ret);
        exit(1);
    }
}

static void seed(void)
{
    char big[200], buf[200];
    ssize_t n;
    int fd, i, zero;

    fd = open_slot("open");

    memset(buf, 0, sizeof buf);
    report("read_no_channel", read(fd, buf, SLOT_LEN));
    report("write_no_channel", write(fd, "x", 1));
    report("ioctl_wrong_cmd", ioctl(fd, WRONG_CMD, 0UL));
    report("ioctl_index_4", ioctl(fd, SEED_SET_CHANNEL, 4UL));
    report("ioctl_index_3", ioctl(fd, SEED_SET_CHANNEL, 3UL));

    memset(big, 'a', sizeof big);
    report("write_200", write(fd, big, 200));
    report("read_64", read(fd, buf, 64));
    report("read_200", read(fd, buf, 200));
    report("write_bad_ptr", write(fd, unmapped, 5));
    report("read_bad_ptr", read(fd, unmapped, 5));

    /* A short message zero-fills the rest of the channel. */
    must("ioctl_index_2", ioctl(fd, SEED_SET_CHANNEL, 2UL));
    must("write_hi", write(fd, "hi", 2));
    memset(buf, 0xff, sizeof buf);
    n = read(fd, buf, SLOT_LEN);
    must("read_hi", n);
    zero = (n == SLOT_LEN);
    for (i = 2; zero && i < SLOT_LEN; i++)
        if (buf[i] != 0)
            zero = 0;
    printf("zero_fill: %d\n", zero);

    close(fd);
}

static void tau(void)
{
    char big[200], buf[SLOT_LEN], small[3];
    ssize_t n;
    int fd, fd2;

    fd = open_slot("open");

    memset(buf, 0, sizeof buf);
    report("read_no_channel", read(fd, buf, SLOT_LEN));
    report("write_no_channel", write(fd, "x", 1));
    report("ioctl_wrong_cmd", ioctl(fd, WRONG_CMD, 5u));
    report("ioctl_zero", ioctl(fd, TAU_SET_CHANNEL, 0u));
    report("ioctl_big_id", ioctl(fd, TAU_SET_CHANNEL, BIG_ID));

    /* expected EWOULDBLOCK, which strerrorname_np names EAGAIN */
    report("read_empty_channel", read(fd, buf, SLOT_LEN));

    memset(big, 'b', sizeof big);
    report("write_0", write(fd, big, 0));
    report("write_129", write(fd, big, 129));
    report("write_bad_ptr", write(fd, unmapped, 5));
    report("write_hello", write(fd, "hello", 5));
    report("read_small", read(fd, small, sizeof small));
    report("read_bad_ptr", read(fd, unmapped, SLOT_LEN));

    memset(buf, 0, sizeof buf);
    n = read(fd, buf, SLOT_LEN);
    report("read_hello", n);
    if (n > 0)
        print_msg("read_content", buf, n);

    /* _IOW encodes the argument size: unsigned long gives another number. */
    report("ioctl_long_encoding", ioctl(fd, _IOW(235, 0, unsigned long), (unsigned long)BIG_ID));

    /* Another open file of the same node, same channel: same message. */
    fd2 = open_slot("open_second_fd");
    must("ioctl_second_fd", ioctl(fd2, TAU_SET_CHANNEL, BIG_ID));
    report("second_fd_same_channel", read(fd2, buf, SLOT_LEN));
    close(fd2);

    /* Reading does not consume the message. */
    report("reread", read(fd, buf, SLOT_LEN));

    close(fd);
}

int main(int argc, char *argv[])
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc != 3 || (strcmp(argv[2], "seed") != 0 && strcmp(argv[2], "tau") != 0)) {
        fprintf(stderr, "usage: slot_errors DEVICE_PATH seed|tau\n");
        return 1;
    }
    path = argv[1];

    if (strcmp(argv[2], "seed") == 0)
        seed();
    else
        tau();

    printf("done\n");
    return 0;
}
