/* message_reader.c - read the message of a channel of a message slot file.
 *
 * Usage: message_reader DEVICE_PATH CHANNEL_ID
 *
 * Opens the device file, sets the channel id with MSG_SLOT_CHANNEL, reads the
 * message into a BUF_LEN buffer, closes the file and writes exactly the bytes
 * read to stdout with write(2) (no newline added). On any error a message on
 * stderr and exit status 1.
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
    fprintf(stderr, "message_reader: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char *argv[])
{
    char buf[BUF_LEN];
    unsigned long id;
    ssize_t n, off, w;
    char *end;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "message_reader: wrong number of arguments\n"
                        "usage: message_reader DEVICE_PATH CHANNEL_ID\n");
        return 1;
    }

    errno = 0;
    id = strtoul(argv[2], &end, 10);
    if (!isdigit((unsigned char)argv[2][0]) || *end != '\0' || errno == ERANGE
        || id > UINT_MAX) {
        fprintf(stderr, "message_reader: invalid channel id '%s'\n", argv[2]);
        return 1;
    }

    fd = open(argv[1], O_RDONLY);
    if (fd < 0)
        die(argv[1]);

    if (ioctl(fd, MSG_SLOT_CHANNEL, (unsigned int)id) < 0)
        die("ioctl");

    n = read(fd, buf, BUF_LEN);
    if (n < 0)
        die("read");

    if (close(fd) < 0)
        die("close");

    for (off = 0; off < n; off += w) {
        w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
        if (w < 0) {
            if (errno == EINTR) {
                w = 0;
                continue;
            }
            die("write to stdout");
        }
    }
    return 0;
}
