/* tclient.c - torture client for the chat room.
 *
 *   tclient ID K N
 *
 * Joins as "cID", prints "ready", waits for "go" on stdin, then writes N
 * numbered messages ("SEQ PAYLOAD", the payload made from ID and SEQ so a
 * reader can check every byte) while a reader thread reads everything the
 * others send.  When the message "END" from the member "end" arrives (it is
 * sent after everything else) the reader prints what it found:
 *   report got=.. lost=.. dup=.. ooo=.. mixed=.. notices=..
 * and the program waits for the end of stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include "../../../cprogs/chatroom.h"

int me, K, N, fd;
unsigned char *seen;   /* K*N: seen[s*N+q] = got message q from sender s */
int *top;              /* highest seq seen per sender, -1 at first */
long got, dups, ooo, mixed, notices;

int payload(int s, int q, char *out)
{
    int len = 1 + (s * 131 + q * 17) % 300;
    for (int j = 0; j < len; j++)
        out[j] = 'a' + (s * 7 + q * 3 + j) % 26;
    out[len] = 0;
    return len;
}

void check(char *msg)
{
    int s, q, n;
    char want[400];

    if (strcmp(msg, "end: END") == 0) {
        long lost = 0;
        for (int i = 0; i < K * N; i++)
            if (i / N != me && !seen[i])
                lost++;
        printf("report got=%ld lost=%ld dup=%ld ooo=%ld mixed=%ld notices=%ld\n",
               got, lost, dups, ooo, mixed, notices);
        fflush(stdout);
        return;
    }
    if (sscanf(msg, "c%d: %d %n", &s, &q, &n) == 2) {
        if (s < 0 || s >= K || s == me || q < 0 || q >= N) {
            mixed++;
            return;
        }
        payload(s, q, want);
        if (strcmp(msg + n, want) != 0) {
            mixed++;
            return;
        }
        got++;
        if (seen[s * N + q]) {
            dups++;
            return;
        }
        seen[s * N + q] = 1;
        if (q < top[s])
            ooo++;
        else
            top[s] = q;
        return;
    }
    n = strlen(msg);
    if ((n > 16 && strcmp(msg + n - 16, " joined the room") == 0) ||
        (n > 5 && strcmp(msg + n - 5, " left") == 0))
        notices++;
    else
        mixed++;
}

void *reader(void *arg)
{
    char buf[2048];
    for (;;) {
        int n = read(fd, buf, sizeof buf - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            printf("read failed: %d %s\n", n, strerror(errno));
            exit(-1);
        }
        buf[n] = 0;
        check(buf);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char name[CHATROOM_NAME_MAX] = {0};
    char msg[512], line[100];
    pthread_t t;

    me = atoi(argv[1]);
    K = atoi(argv[2]);
    N = atoi(argv[3]);
    seen = calloc(K * N, 1);
    top = malloc(K * sizeof(int));
    for (int i = 0; i < K; i++)
        top[i] = -1;

    fd = open(CHATROOM_DEVICE, O_RDWR);
    if (fd < 0) {
        perror("open");
        exit(-1);
    }
    sprintf(name, "c%d", me);
    if (ioctl(fd, CHATROOM_IOC_SET_NAME, name) < 0) {
        perror("ioctl");
        exit(-1);
    }
    pthread_create(&t, NULL, reader, NULL);
    printf("ready\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        return -1;
    for (int q = 0; q < N; q++) {
        int len = sprintf(msg, "%d ", q);
        len += payload(me, q, msg + len);
        int w = write(fd, msg, len);
        if (w != len) {
            printf("write %d returned %d (%s)\n", q, w, strerror(errno));
            fflush(stdout);
        }
    }
    printf("sent %d\n", N);
    fflush(stdout);
    while (fgets(line, sizeof line, stdin))
        ;
    return 0;
}
