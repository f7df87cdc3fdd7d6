/* syscalls.c - calls that no filter traps: N getppid, N getuid, W 1-byte writes to /dev/null.
 *
 * Usage: syscalls N W. Prints the time of each loop, measured inside the program
 * (start-up and the one trapped open of /dev/null are outside the clock). */
#include "bench.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    long i, n, w;
    long long t0, t1, t2, t3;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: syscalls N W\n");
        return 2;
    }
    n = atol(argv[1]);
    w = atol(argv[2]);
    fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        die("open /dev/null");

    t0 = now_ns();
    for (i = 0; i < n; i++)
        syscall(SYS_getppid);
    t1 = now_ns();
    for (i = 0; i < n; i++)
        syscall(SYS_getuid);
    t2 = now_ns();
    for (i = 0; i < w; i++)
        if (write(fd, "x", 1) != 1)
            die("write");
    t3 = now_ns();

    printf("getppid_ns=%lld getuid_ns=%lld write_ns=%lld total_ns=%lld\n",
           t1 - t0, t2 - t1, t3 - t2, t3 - t0);
    return 0;
}
