/* message_sender.c - write one message to a channel of a message slot file.
 *
 * Usage: message_sender DEVICE_PATH CHANNEL_ID MESSAGE
 *
 * Opens the device file, sets the channel id with MSG_SLOT_CHANNEL, writes
 * the message (without its terminating NUL) and closes the file. Prints
 * nothing on success; on any error a message on stderr and exit status 1.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "message_slot.h"

static void die(const char *what)
{
    fprintf(stderr, "message_sender: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char *argv[])
{
    unsigned long id;
    size_t len;
    ssize_t n;
    char *end;
    int fd;

    if (argc != 4) {
        fprintf(stderr, "message_sender: wrong number of arguments\n"
                        "usage: message_sender DEVICE_PATH CHANNEL_ID MESSAGE\n");
        return 1;
    }

    errno = 0;
    id = strtoul(argv[2], &end, 10);
    if (!isdigit((unsigned char)argv[2][0]) || *end != '\0' || errno == ERANGE
        || id > UINT_MAX) {
        fprintf(stderr, "message_sender: invalid channel id '%s'\n", argv[2]);
        return 1;
    }

    fd = open(argv[1], O_WRONLY);
    if (fd < 0)
        die(argv[1]);

    if (ioctl(fd, MSG_SLOT_CHANNEL, (unsigned int)id) < 0)
        die("ioctl");

    len = strlen(argv[3]);
    n = write(fd, argv[3], len);
    if (n < 0)
        die("write");
    if ((size_t)n != len) {
        fprintf(stderr, "message_sender: write: wrote %zd of %zu bytes\n", n, len);
        return 1;
    }

    if (close(fd) < 0)
        die("close");
    return 0;
}
