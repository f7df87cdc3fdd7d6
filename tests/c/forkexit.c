/* forkexit.c - children (and their children) that exit at once, 300 times. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    int r, i, status;
    pid_t pid;

    for (r = 0; r < rounds; r++) {
        for (i = 0; i < 300; i++) {
            pid = fork();
            if (pid < 0) {
                perror("fork");
                exit(-1);
            }
            if (pid == 0) {
                if (fork() < 0)
                    _exit(1);
                _exit(0);
            }
            if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
                printf("child %d went wrong\n", i);
                return -1;
            }
        }
    }
    printf("forked %d\n", rounds * 300);
    return 0;
}
