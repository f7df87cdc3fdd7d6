/* joinchat_pid.c - joinchat for a driver without the naming ioctl.
 *
 * Usage: joinchat_pid        (arguments are ignored)
 *
 * The device names each member by its process ID, so this program never
 * calls ioctl(); it announces itself as its PID and otherwise behaves like
 * joinchat: a reader thread prints messages, the main thread sends stdin
 * lines, "Bye!" (or end of input) closes the device and exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "chatroom.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Reader thread: one read() is one whole message; print it on its own line. */
static void *reader(void *arg)
{
    int fd = *(int *)arg;
    char buf[CHATROOM_MSG_MAX + CHATROOM_NAME_MAX + 64];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        buf[n] = '\0';
        pthread_mutex_lock(&out_lock);
        fputs(buf, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        pthread_mutex_unlock(&out_lock);
    }
}

int main(void)
{
    char line[CHATROOM_MSG_MAX + 2];
    pthread_t tid;
    int fd, err, tty;
    long pid = (long)getpid();

    setvbuf(stdout, NULL, _IOLBF, 0);

    fd = open(CHATROOM_DEVICE, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "joinchat: %s: %s\n", CHATROOM_DEVICE, strerror(errno));
        return 1;
    }

    printf("You joined as %ld\n", pid);

    err = pthread_create(&tid, NULL, reader, &fd);
    if (err != 0) {
        fprintf(stderr, "joinchat: pthread_create: %s\n", strerror(err));
        return 1;
    }

    tty = isatty(STDIN_FILENO);
    for (;;) {
        size_t len;

        if (tty) {
            pthread_mutex_lock(&out_lock);
            printf("%ld> ", pid);
            fflush(stdout);
            pthread_mutex_unlock(&out_lock);
        }
        if (fgets(line, sizeof line, stdin) == NULL)
            break;                          /* end of input: leave */

        len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (strcmp(line, "Bye!") == 0)
            break;

        if (write(fd, line, len) < 0)
            fprintf(stderr, "joinchat: write: %s\n", strerror(errno));
    }

    /* Leave the room. exit() also ends the reader thread blocked in read(). */
    close(fd);
    exit(0);
}
