/* attachsup.c - a hostile program: try to ptrace the supervisor and a traced child. */
#include "util.h"
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

pid_t tracer_pid(void)
{
    char line[256];
    pid_t pid = -1;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "TracerPid:", 10) == 0)
            pid = atoi(line + 10);
    if (f)
        fclose(f);
    return pid;
}

int main()
{
    pid_t sup = tracer_pid(), child;
    int fd, status;

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("traced: %s\n", sup > 0 ? "yes" : "no");
    report("attach tracer", ptrace(PTRACE_ATTACH, sup, 0, 0));
    report("seize tracer", ptrace(PTRACE_SEIZE, sup, 0, 0));
    report("attach parent", ptrace(PTRACE_ATTACH, getppid(), 0, 0));

    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    report("attach child", ptrace(PTRACE_ATTACH, child, 0, 0));
    report("seize child", ptrace(PTRACE_SEIZE, child, 0, 0));
    report("traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
    kill(child, SIGKILL);
    waitpid(child, &status, 0);

    /* the sandbox still answers */
    fd = open(devpath(), O_RDWR);
    report("open", fd < 0 ? -1 : 0);
    return 0;
}
