/* forkmany.c - many short-lived children each open and close the device. */
#include "util.h"
#include <sys/wait.h>

int main(int argc, char *argv[])
{
    int i, n, reaped = 0, ok = 0, status;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: forkmany N\n");
        return 2;
    }
    n = atoi(argv[1]);

    for (i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            report("fork", -1);
            break;
        }
        if (pid == 0) {
            int fd = open(devpath(), O_RDWR);
            if (fd < 0)
                _exit(1);
            _exit(close(fd) == 0 ? 0 : 2);
        }
    }

    while (wait(&status) > 0) {
        reaped++;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
    }

    printf("reaped: %d\n", reaped);
    printf("ok: %d\n", ok);
    printf("done\n");
    return 0;
}
