/* forkshare.c - a device fd shared across fork: the member leaves only when the last copy closes. */
#include "util.h"
#include <sys/wait.h>

int main(void)
{
    pid_t pid;
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open_dev(O_RDWR, "FS");

    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        report("fork", -1);
        return 1;
    }
    if (pid == 0) {
        if (write(fd, "from child", 10) < 0)
            report("write_child", -1);
        close(fd);
        printf("child closed\n");
        exit(0);
    }

    waitpid(pid, NULL, 0);
    printf("parent waiting\n");
    wait_stdin_line();

    if (write(fd, "from parent", 11) < 0)
        report("write_parent", -1);
    close(fd);
    printf("parent closed\n");
    printf("done\n");
    return 0;
}
