/* chardev_edges.c - corners of open/read/write where a char device answers in a
 * particular way.  Run it on /dev/null natively (CHATDEV=/dev/null) and on
 * /dev/chatroom in the sandbox: the lines should mostly be the same.
 * Each line is "what: result", result "ok", a number, or an errno name. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <libgen.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include "../../cprogs/chatroom.h"

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x1
#define RWF_DSYNC 0x2
#define RWF_NOWAIT 0x8
#endif

char dev[256], dir[256], base[256];
char buf[4096];

void say(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* open a path, print ok or the errno, close it again */
void try_open(const char *what, const char *p, int flags)
{
    int fd = open(p, flags);
    if (fd < 0) {
        printf("%s: %s\n", what, strerrorname_np(errno));
    } else {
        printf("%s: ok\n", what);
        close(fd);
    }
}

int main()
{
    char p[600];
    int fd, fd2, fd3, dfd;
    struct iovec iov[2];
    char *heap;
    void *m;

    if (getenv("CHATDEV"))
        strcpy(dev, getenv("CHATDEV"));
    else
        strcpy(dev, CHATROOM_DEVICE);
    strcpy(p, dev);
    strcpy(dir, dirname(p));
    strcpy(p, dev);
    strcpy(base, basename(p));

    /* the same node by other spellings */
    sprintf(p, "/%s", dev);
    try_open("open_slashslash", p, O_RDWR);
    sprintf(p, "//%s", dev);
    try_open("open_slash3", p, O_RDWR);
    sprintf(p, "%s//%s", dir, base);
    try_open("open_midslash", p, O_RDWR);
    sprintf(p, "%s/./%s", dir, base);
    try_open("open_dot", p, O_RDWR);
    sprintf(p, "%s/../%s/%s", dir, basename(strcpy(buf, dir)), base);
    try_open("open_dotdot", p, O_RDWR);
    sprintf(p, "%s/nosuchdir/../%s", dir, base);
    try_open("open_missing_dotdot", p, O_RDWR);
    sprintf(p, "%s/", dev);
    try_open("open_trailing_slash", p, O_RDWR);
    sprintf(p, "%s/.", dev);
    try_open("open_trailing_dot", p, O_RDWR);
    sprintf(p, "%s/..", dev);
    try_open("open_trailing_dotdot", p, O_RDWR);
    sprintf(p, "%s/../%s", dev, base);
    try_open("open_through_node", p, O_RDWR);
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    fd = openat(dfd, base, O_RDWR);
    say("openat_dirfd", fd < 0 ? -1 : 0);
    if (fd >= 0)
        close(fd);
    sprintf(p, "./%s", base);
    fd = openat(dfd, p, O_RDWR);
    say("openat_dirfd_dot", fd < 0 ? -1 : 0);
    if (fd >= 0)
        close(fd);
    if (chdir(dir) < 0)
        perror("chdir");
    try_open("open_relative", base, O_RDWR);
    sprintf(p, "././/%s", base);
    try_open("open_relative_dots", p, O_RDWR);

    /* access mode 3: no read, no write, but ioctl */
    fd3 = open(dev, 3);
    if (fd3 < 0) {
        printf("open_mode3: %s\n", strerrorname_np(errno));
    } else {
        printf("open_mode3: ok\n");
        say("getfl_mode3", fcntl(fd3, F_GETFL) & O_ACCMODE);
        say("read_mode3", read(fd3, buf, 10));
        say("write_mode3", write(fd3, "x", 1));
        iov[0].iov_base = buf;
        iov[0].iov_len = 1;
        say("readv_mode3", readv(fd3, iov, 1));
        say("writev_mode3", writev(fd3, iov, 1));
        say("ioctl_unknown_mode3", ioctl(fd3, _IO('k', 99), 0));
        m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd3, 0);
        say("mmap_mode3", m == MAP_FAILED ? -1 : 0);
        close(fd3);
    }
    fd = open(dev, O_WRONLY);
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    say("mmap_wronly", m == MAP_FAILED ? -1 : 0);
    close(fd);

    /* sizes: the range check comes before the device */
    fd = open(dev, O_RDWR | O_NONBLOCK);
    fd2 = open(dev, O_RDWR | O_NONBLOCK);
    strcpy(buf, "hello");
    say("write_one", write(fd, buf, 5)); /* queued for fd2 in the chat room */
    say("write_sizemax", write(fd, buf, SIZE_MAX));
    say("write_2p62", write(fd, buf, (size_t)1 << 62));
    say("write_kernel_addr", write(fd, (void *)0xffffffffff600000UL, 10));
    say("read_sizemax", read(fd2, buf, SIZE_MAX));
    say("read_2p62", read(fd2, buf, (size_t)1 << 62));
    say("read_negative_ssize", read(fd2, buf, (size_t)-5));
    say("pread_negative_pos", pread(fd2, buf, 10, -1));
    say("pwrite_negative_pos", pwrite(fd, buf, 1, -2));
    say("pread_sizemax", pread(fd2, buf, SIZE_MAX, 0));
    heap = malloc(100);
    say("write_past_maxrw", write(fd, heap, (size_t)1 << 40));

    iov[0].iov_base = buf;
    iov[0].iov_len = SIZE_MAX;
    say("readv_sizemax", readv(fd2, iov, 1));
    say("writev_sizemax", writev(fd, iov, 1));
    iov[0].iov_len = (size_t)1 << 62;
    say("writev_2p62", writev(fd, iov, 1));
    iov[0].iov_len = 1;
    iov[1].iov_base = buf;
    iov[1].iov_len = (size_t)-1;
    say("writev_second_sizemax", writev(fd, iov, 2));
    iov[1].iov_base = (void *)0xffffffffff600000UL;
    iov[1].iov_len = 10;
    say("writev_second_kernel", writev(fd, iov, 2));
    say("writev_1025", writev(fd, iov, 1025));
    say("writev_0", writev(fd, iov, 0));
    say("writev_badvec", writev(fd, (struct iovec *)8, 1));

    /* the messages are still queued (the join notice, then hello): nothing above took them */
    say("read_after", read(fd2, buf, sizeof buf));
    say("read_after2", read(fd2, buf, sizeof buf));

    /* preadv2 / pwritev2 flags */
    iov[0].iov_base = buf;
    iov[0].iov_len = 3;
    strcpy(buf, "abc");
    say("pwritev2_unknown", pwritev2(fd, iov, 1, -1, 0x40000000));
    say("pwritev2_nowait", pwritev2(fd, iov, 1, -1, RWF_NOWAIT));
    say("pwritev2_dsync", pwritev2(fd, iov, 1, -1, RWF_DSYNC));
    say("pwritev2_hipri", pwritev2(fd, iov, 1, -1, RWF_HIPRI));
    say("pwritev2_none", pwritev2(fd, iov, 1, -1, 0));
    iov[0].iov_len = 0;
    say("pwritev2_unknown_empty", pwritev2(fd, iov, 1, -1, 0x40000000));
    iov[0].iov_len = 100;
    say("preadv2_unknown", preadv2(fd2, iov, 1, -1, 0x40000000));
    say("preadv2_nowait", preadv2(fd2, iov, 1, -1, RWF_NOWAIT));
    say("preadv2_neg_pos", preadv2(fd2, iov, 1, -7, 0));
    close(fd);
    close(fd2);
    return 0;
}
