/* joinchat.c - join /dev/chatroom under a name and chat from the terminal.
 *
 * Usage: joinchat NAME
 *
 * Two threads, as the assignment suggests: the reader thread prints every
 * message the device delivers; the main thread sends each stdin line as one
 * message. Typing "Bye!" (or end of input) closes the device and exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
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

int main(int argc, char *argv[])
{
    char name[CHATROOM_NAME_MAX];
    char line[CHATROOM_MSG_MAX + 2];
    pthread_t tid;
    int fd, err, tty;

    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc != 2) {
        fprintf(stderr, "usage: joinchat NAME\n");
        return 2;
    }
    if (strlen(argv[1]) >= sizeof name) {
        fprintf(stderr, "joinchat: name too long (max %d characters)\n",
                CHATROOM_NAME_MAX - 1);
        return 2;
    }
    memset(name, 0, sizeof name);
    strcpy(name, argv[1]);

    fd = open(CHATROOM_DEVICE, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "joinchat: %s: %s\n", CHATROOM_DEVICE, strerror(errno));
        return 1;
    }
    if (ioctl(fd, CHATROOM_IOC_SET_NAME, name) < 0) {
        fprintf(stderr, "joinchat: ioctl: %s\n", strerror(errno));
        return 1;
    }

    printf("You joined as %s\n", name);

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
            printf("%s> ", name);
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
