/* badptr.c - bad user pointers (unmapped, read-only) give EFAULT; unknown ioctl gives ENOTTY. */
#include "util.h"

/* volatile, so the compiler neither warns about nor folds these addresses */
static void *volatile unmapped = (void *)16;

/* A string literal lives in read-only memory: reading into it must fault. */
static char *volatile readonly =
    (char *)"this string literal is in read-only memory and is at least 64 bytes long";

int main(void)
{
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open_dev(O_RDWR, "BP");
    printf("ready\n");

    wait_stdin_line();  /* the test queues two messages for us, then sends a line */

    report("read_unmapped", read(fd, unmapped, 64));
    report("read_readonly_dst", read(fd, readonly, 64));
    report("write_unmapped", write(fd, unmapped, 5));
    report("write_readonly_src", write(fd, "ok", 2));
    report("ioctl_unknown", ioctl(fd, _IO('z', 99)));
    report("ioctl_name_unmapped", ioctl(fd, CHATROOM_IOC_SET_NAME, unmapped));

    printf("done\n");
    return 0;
}
