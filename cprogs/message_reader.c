/* message_reader.c - read the message kept in a channel of /dev/message_slot.
 *
 * Usage: message_reader CHANNEL
 *
 * Flow, as the assignment gives it: open the device, ioctl() the channel
 * index, prepare a buffer, read the message into it, close the device, print
 * the message and a status message. The message is printed up to its first
 * NUL byte (the device zero-fills the rest of a channel), on one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "message_slot.h"

int main(int argc, char *argv[])
{
    char buf[BUF_LEN];
    long channel;
    char *end;
    ssize_t n;
    int fd;

    if (argc != 2) {
        fprintf(stderr, "usage: message_reader CHANNEL\n");
        return 1;
    }

    errno = 0;
    channel = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || errno == ERANGE) {
        fprintf(stderr, "message_reader: invalid channel index '%s'\n", argv[1]);
        return 1;
    }

    /* 1. Open the device. */
    fd = open(DEVICE_FILE_NAME, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "message_reader: open %s: %s\n", DEVICE_FILE_NAME,
                strerror(errno));
        return 1;
    }

    /* 2. Set the channel (the module checks the range 0..3). */
    if (ioctl(fd, IOCTL_SET_CHANNEL, (unsigned long)channel) < 0) {
        fprintf(stderr, "message_reader: ioctl(IOCTL_SET_CHANNEL, %ld): %s\n",
                channel, strerror(errno));
        close(fd);
        return 1;
    }

    /* 3. Prepare a buffer; 4. read the message into it. */
    memset(buf, 0, sizeof buf);
    do
        n = read(fd, buf, BUF_LEN);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        fprintf(stderr, "message_reader: read: %s\n", strerror(errno));
        close(fd);
        return 1;
    }

    /* 5. Close. */
    if (close(fd) < 0) {
        fprintf(stderr, "message_reader: close: %s\n", strerror(errno));
        return 1;
    }

    /* 6. The message, then the status. */
    printf("%.*s\n", (int)strnlen(buf, (size_t)n), buf);
    printf("Read %zd bytes from channel %ld\n", n, channel);
    return 0;
}
