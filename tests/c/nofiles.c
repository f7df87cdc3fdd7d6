/* nofiles.c - a thread made with clone() but without CLONE_FILES: its own fd table. */
#include "util.h"
#include <sched.h>
#include <poll.h>
#include <time.h>
#include <sys/syscall.h>

volatile int done;
int child_fd = -1;

int child(void *arg)
{
    char buf[MSGBUF_SIZE];
    struct pollfd p;
    ssize_t n;

    child_fd = open_dev(O_RDWR, "NF");
    printf("child opened\n");
    write(child_fd, "own table", 9);
    n = read(child_fd, buf, sizeof buf);
    if (n < 0)
        report("read", -1);
    else
        print_msg("got", buf, n);
    p.fd = child_fd;
    p.events = POLLIN;
    report("poll after read", poll(&p, 1, 0));
    close(child_fd);
    done = 1;
    syscall(SYS_exit, 0);
    return 0;
}

int main()
{
    struct timespec ms = { 0, 1000000 };
    char *stack = malloc(1 << 20);

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (clone(child, stack + (1 << 20), CLONE_VM | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD
              | CLONE_SYSVSEM, NULL) < 0) {
        perror("clone");
        return -1;
    }
    while (!done)
        nanosleep(&ms, NULL);
    report("main sees the child's fd", fcntl(child_fd, F_GETFD));
    printf("done\n");
    return 0;
}
