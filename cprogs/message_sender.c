/* message_sender.c - send a message to a channel of /dev/message_slot.
 *
 * Usage: message_sender CHANNEL MESSAGE
 *
 * Flow, as the assignment gives it: open the device, ioctl() the channel
 * index, prepare a buffer with the message, write it, close the device,
 * print a status message. Messages longer than BUF_LEN are cut to BUF_LEN
 * bytes (the device would ignore the extra bytes anyway).
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
    char buf[BUF_LEN + 1];          /* + 1: always NUL-terminated */
    long channel;
    char *end;
    size_t len;
    ssize_t n;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: message_sender CHANNEL MESSAGE\n");
        return 1;
    }

    errno = 0;
    channel = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || errno == ERANGE) {
        fprintf(stderr, "message_sender: invalid channel index '%s'\n", argv[1]);
        return 1;
    }

    /* 1. Open the device. */
    fd = open(DEVICE_FILE_NAME, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "message_sender: open %s: %s\n", DEVICE_FILE_NAME,
                strerror(errno));
        return 1;
    }

    /* 2. Set the channel (the module checks the range 0..3). */
    if (ioctl(fd, IOCTL_SET_CHANNEL, (unsigned long)channel) < 0) {
        fprintf(stderr, "message_sender: ioctl(IOCTL_SET_CHANNEL, %ld): %s\n",
                channel, strerror(errno));
        close(fd);
        return 1;
    }

    /* 3. Prepare the buffer. */
    len = strlen(argv[2]);
    if (len > BUF_LEN)
        len = BUF_LEN;
    memset(buf, 0, sizeof buf);
    strncpy(buf, argv[2], BUF_LEN);

    /* 4. Write it. */
    do
        n = write(fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        fprintf(stderr, "message_sender: write: %s\n", strerror(errno));
        close(fd);
        return 1;
    }

    /* 5. Close. */
    if (close(fd) < 0) {
        fprintf(stderr, "message_sender: close: %s\n", strerror(errno));
        return 1;
    }

    /* 6. Status. */
    printf("Sent %zd bytes to channel %ld\n", n, channel);
    return 0;
}
