/* execcloexec.c - an O_CLOEXEC device fd is closed (member leaves) at execve; a plain one is kept. */
#include "util.h"

int main(int argc, char *argv[])
{
    int flags = O_RDWR, fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2 || (strcmp(argv[1], "cloexec") != 0 && strcmp(argv[1], "keep") != 0)) {
        fprintf(stderr, "usage: execcloexec cloexec|keep\n");
        return 2;
    }
    if (strcmp(argv[1], "cloexec") == 0)
        flags |= O_CLOEXEC;

    fd = open_dev(flags, "EX");
    if (write(fd, "before exec", 11) < 0)
        report("write", -1);
    printf("exec\n");
    fflush(stdout);

    execl("/bin/sh", "sh", "-c", "read x; echo after-exec; echo done", (char *)NULL);
    report("execl", -1);
    return 1;
}
