/* seqpacket_pingpong.c - the native baseline of chat_pingpong: M round trips over
 * socketpair(AF_UNIX, SOCK_SEQPACKET) between a parent (ping) and a forked child (pong).
 *
 * Usage: seqpacket_pingpong M. Prints the mean round-trip time measured by ping. */
#include "bench.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char payload[16] = "0123456789abcdef";

int main(int argc, char *argv[])
{
    char buf[1100];
    long i, m;
    long long t0, t1;
    int sv[2], status;
    pid_t pid;

    if (argc != 2) {
        fprintf(stderr, "usage: seqpacket_pingpong M\n");
        return 2;
    }
    m = atol(argv[1]);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
        die("socketpair");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(sv[0]);
        for (i = 0; i < m; i++) {
            if (read(sv[1], buf, sizeof buf) <= 0)
                die("pong read");
            if (write(sv[1], payload, sizeof payload) != (ssize_t)sizeof payload)
                die("pong write");
        }
        _exit(0);
    }
    close(sv[1]);
    t0 = now_ns();
    for (i = 0; i < m; i++) {
        if (write(sv[0], payload, sizeof payload) != (ssize_t)sizeof payload)
            die("ping write");
        if (read(sv[0], buf, sizeof buf) <= 0)
            die("ping read");
    }
    t1 = now_ns();
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("pong failed");
    printf("round_trips=%ld rt_ns=%.1f\n", m, (double)(t1 - t0) / m);
    return 0;
}
