/* kmod_pipe_reader [restart]: read one message from /dev/kpipe; SIGUSR1 has a
 * handler (with SA_RESTART if asked) */
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char *argv[])
{
    char buf[256];
    struct sigaction sa;
    int fd, n;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    if (argc > 1 && strcmp(argv[1], "restart") == 0)
        sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    fd = open("/dev/kpipe", O_RDONLY);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    n = read(fd, buf, sizeof buf - 1);
    if (n < 0) {
        printf("read: %s\n", strerror(errno));
        return 2;
    }
    buf[n] = 0;
    printf("got: %s\n", buf);
    return 0;
}
