/* barrier.c - a barrier of N fork()ed processes built on mysend/myreceive.
 *
 * Usage: barrier [N]        (N children, default 5, 1..1024)
 *
 * As the mailbox assignment asks: the children report their arrival with
 * messages; the process that has received N-1 arrivals sends a release
 * message to every other one. Here child 0 is that collector:
 *
 *   child 0 (collector)      child i (1..N-1)
 *   "arrived, blocking"      "arrived, blocking"
 *                       <--  mysend(collector, "arrive <pid>")
 *   myreceive(-1) x N-1      myreceive(collector) until "release"
 *   mysend(i, "release") --> "released"
 *   "released"
 *
 * This works whether mysend blocks until the message is received or queues
 * it. A myreceive that returns 0 (non-blocking variant, nothing queued) is
 * retried after 1 ms. Messages are sent with their terminating NUL.
 *
 * Output: each child prints "[<pid>] arrived, blocking" right before it
 * blocks and "[<pid>] released" after; the parent then prints
 * "barrier done: <N> released" (exit 0) or "barrier failed" (exit 1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mailbox.h"

#define MSG_SIZE 64
#define MAX_CHILDREN 1024

/* Receive one message from pid (any process if pid < 0) as a C string.
 * Retries on 0 (nothing queued) and EINTR; exits 1 on any other error. */
static long recv_msg(pid_t pid, char *buf, int size)
{
    for (;;) {
        long r = myreceive(pid, size - 1, buf);

        if (r > 0) {
            if (r > size - 1)
                r = size - 1;
            buf[r] = '\0';
            return r;
        }
        if (r == 0) {
            usleep(1000);
            continue;
        }
        fprintf(stderr, "[%d] myreceive: %s\n", (int)getpid(), strerror(errno));
        if (errno != EINTR)
            exit(1);
    }
}

/* Send the string msg (with its NUL) to pid; exits 1 on error. */
static void send_msg(pid_t pid, const char *msg)
{
    for (;;) {
        if (mysend(pid, (int)strlen(msg) + 1, msg) >= 0)
            return;
        fprintf(stderr, "[%d] mysend to %d: %s\n", (int)getpid(), (int)pid,
                strerror(errno));
        if (errno != EINTR)
            exit(1);
    }
}

static void arrived(void)
{
    printf("[%d] arrived, blocking\n", (int)getpid());
    fflush(stdout);
}

static void released(void)
{
    printf("[%d] released\n", (int)getpid());
    fflush(stdout);
}

/* Child 0: collect n-1 arrivals, then release everybody. */
static void collector_main(int n)
{
    char buf[MSG_SIZE];
    pid_t *waiting;
    int count = 0, i;

    waiting = calloc((size_t)n, sizeof *waiting);
    if (!waiting) {
        fprintf(stderr, "[%d] calloc: %s\n", (int)getpid(), strerror(errno));
        exit(1);
    }

    arrived();
    while (count < n - 1) {
        char *end;
        long p;

        recv_msg(-1, buf, sizeof buf);
        if (strncmp(buf, "arrive ", 7) == 0) {
            p = strtol(buf + 7, &end, 10);
            if (end != buf + 7 && *end == '\0' && p > 0) {
                waiting[count++] = (pid_t)p;
                continue;
            }
        }
        fprintf(stderr, "[%d] ignoring unexpected message \"%s\"\n",
                (int)getpid(), buf);
    }

    for (i = 0; i < count; i++)
        send_msg(waiting[i], "release");

    released();
    free(waiting);
    exit(0);
}

/* Children 1..n-1: report arrival to the collector, wait for the release. */
static void member_main(pid_t collector)
{
    char msg[MSG_SIZE], buf[MSG_SIZE];

    arrived();
    snprintf(msg, sizeof msg, "arrive %d", (int)getpid());
    send_msg(collector, msg);

    for (;;) {
        recv_msg(collector, buf, sizeof buf);
        if (strcmp(buf, "release") == 0)
            break;
        fprintf(stderr, "[%d] ignoring unexpected message \"%s\"\n",
                (int)getpid(), buf);
    }

    released();
    exit(0);
}

int main(int argc, char *argv[])
{
    pid_t pids[MAX_CHILDREN];
    pid_t collector = -1;
    int n = 5, i, ok = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc > 2) {
        fprintf(stderr, "usage: barrier [N]\n");
        return 1;
    }
    if (argc == 2) {
        char *end;
        long v;

        errno = 0;
        v = strtol(argv[1], &end, 10);
        if (end == argv[1] || *end != '\0' || errno == ERANGE
            || v < 1 || v > MAX_CHILDREN) {
            fprintf(stderr, "barrier: invalid N '%s' (expected 1..%d)\n",
                    argv[1], MAX_CHILDREN);
            return 1;
        }
        n = (int)v;
    }

    for (i = 0; i < n; i++) {
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0) {
            int j;

            fprintf(stderr, "barrier: fork: %s\n", strerror(errno));
            /* The children already started would wait forever. */
            for (j = 0; j < i; j++)
                kill(pids[j], SIGKILL);
            for (j = 0; j < i; j++)
                waitpid(pids[j], NULL, 0);
            printf("barrier failed\n");
            return 1;
        }
        if (pid == 0) {
            if (i == 0)
                collector_main(n);
            else
                member_main(collector);
        }
        pids[i] = pid;
        if (i == 0)
            collector = pid;
    }

    for (i = 0; i < n; i++) {
        int status;
        pid_t r;

        do
            r = waitpid(pids[i], &status, 0);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            fprintf(stderr, "barrier: waitpid %d: %s\n", (int)pids[i],
                    strerror(errno));
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
        else if (WIFEXITED(status))
            fprintf(stderr, "barrier: child %d exited with status %d\n",
                    (int)pids[i], WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            fprintf(stderr, "barrier: child %d killed by signal %d\n",
                    (int)pids[i], WTERMSIG(status));
    }

    if (ok == n) {
        printf("barrier done: %d released\n", n);
        return 0;
    }
    printf("barrier failed\n");
    return 1;
}
