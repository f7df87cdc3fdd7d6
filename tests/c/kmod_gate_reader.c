/* kmod_gate_reader [restart]: open /dev/kgate for reading (it waits for a
 * writer), then read what was written; SIGUSR1 has a handler (SA_RESTART if asked) */
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char *argv[])
{
    char buf[64];
    struct sigaction sa;
    int fd, n;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    if (argc > 1 && strcmp(argv[1], "restart") == 0)
        sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    fd = open("/dev/kgate", O_RDONLY);
    if (fd < 0) {
        printf("open: %s\n", strerror(errno));
        return 2;
    }
    n = read(fd, buf, sizeof buf - 1);
    if (n < 0) {
        printf("read: %s\n", strerror(errno));
        return 1;
    }
    buf[n] = 0;
    printf("got: %s\n", buf);
    return 0;
}
