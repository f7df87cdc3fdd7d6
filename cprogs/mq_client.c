/* mq_client.c - interactive client for the /dev/mq messaging device.
 *
 * Usage: mq_client
 *
 * Prints "mq client ready", then handles one stdin line at a time:
 *   /exit       close the device and exit 0 (end of input does the same)
 *   /read       read one message: print it, or "(no messages)" when the
 *               queue is empty (EAGAIN, or a read of 0 bytes), or
 *               "read error: ENAME (strerror)"
 *   /readall    /read repeatedly until the queue is empty (or an error)
 *   other       written to the device as one command (/reg NAME, /unr,
 *               /msg DEST TEXT, /all TEXT): prints "ok" or
 *               "error: ENAME (strerror)"
 * Empty lines are skipped. A line longer than the client's line buffer is
 * discarded with "error: line too long".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mq.h"

#define LINE_MAX_LEN 4096   /* well above MQ_CMD_MAX: the device judges length */

/* Symbolic errno name ("EAGAIN"), or "E?" if unknown. */
static const char *ename(int e)
{
    const char *s = strerrorname_np(e);
    return s ? s : "E?";
}

/* One read(): 1 if a message was printed, 0 if the queue was empty, -1 on
 * another error. */
static int do_read(int fd)
{
    char buf[MQ_MSG_MAX];
    ssize_t n;
    int e;

    do
        n = read(fd, buf, MQ_MSG_MAX);
    while (n < 0 && errno == EINTR);

    if (n > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        return 1;
    }
    if (n == 0 || errno == EAGAIN) {
        printf("(no messages)\n");
        return 0;
    }
    e = errno;
    printf("read error: %s (%s)\n", ename(e), strerror(e));
    return -1;
}

/* Write one command; print "ok" or "error: ENAME (strerror)". */
static void do_command(int fd, const char *line, size_t len)
{
    ssize_t n;
    int e;

    do
        n = write(fd, line, len);
    while (n < 0 && errno == EINTR);

    if (n >= 0) {
        printf("ok\n");
        return;
    }
    e = errno;
    printf("error: %s (%s)\n", ename(e), strerror(e));
}

int main(int argc, char *argv[])
{
    char line[LINE_MAX_LEN];
    int fd;

    (void)argv;
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc != 1) {
        fprintf(stderr, "usage: mq_client\n");
        return 1;
    }

    fd = open(MQ_DEVICE, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "mq_client: open %s: %s\n", MQ_DEVICE, strerror(errno));
        return 1;
    }

    printf("mq client ready\n");

    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t len = strlen(line);

        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        } else if (!feof(stdin)) {
            /* No newline and not at end of input: the line did not fit.
             * Throw the rest of it away rather than sending pieces. */
            int c;
            while ((c = getchar()) != EOF && c != '\n')
                ;
            printf("error: line too long\n");
            continue;
        }
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0)
            continue;

        if (strcmp(line, "/exit") == 0)
            break;
        if (strcmp(line, "/read") == 0)
            do_read(fd);
        else if (strcmp(line, "/readall") == 0)
            while (do_read(fd) > 0)
                ;
        else
            do_command(fd, line, len);
    }

    if (close(fd) < 0) {
        fprintf(stderr, "mq_client: close: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
