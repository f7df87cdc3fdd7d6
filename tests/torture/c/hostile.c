/* hostile.c - programs that try to upset the supervisor.
 *
 *   hostile MODE
 *
 * Every mode uses /dev/chatroom on the way (joins as "h", writes "h: MODE ..."
 * messages) and prints "done" if it gets to its end. The supervisor must
 * survive all of them and keep serving the other members. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <sched.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "../../../cprogs/chatroom.h"

int fd;
char buf[2048];

int join(void)
{
    char name[CHATROOM_NAME_MAX] = "h";
    int f = open(CHATROOM_DEVICE, O_RDWR);
    if (f < 0) {
        perror("open");
        exit(-1);
    }
    ioctl(f, CHATROOM_IOC_SET_NAME, name);
    return f;
}

void say(const char *what)
{
    write(fd, what, strlen(what));
}

void *blocked_reader(void *arg)
{
    int n = read(fd, buf, sizeof buf);
    printf("reader woke: %d %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    return NULL;
}

void *quick(void *arg)
{
    say("from a short thread");
    return NULL;
}

void *spinner(void *arg)
{
    volatile long x = 0;
    for (;;)
        x++;
}

void *chatter(void *arg)
{
    for (;;) {
        say("chatter");
        usleep(1000);
    }
}

volatile int child_done;
int child_main(void *arg)
{
    /* a thread of our own without CLONE_FILES: its own fd table */
    int f = open(CHATROOM_DEVICE, O_RDWR);
    if (f >= 0) {
        write(f, "from a thread with its own files", 32);
        close(f);
    }
    child_done = f >= 0 ? 1 : 2;
    syscall(SYS_exit, 0);
    return 0;
}

int main(int argc, char **argv)
{
    char *mode = argv[1];
    pthread_t t;
    int i, st;
    pid_t pid;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "execstorm") && argc > 2) {
        /* exec'd again: the device fd came across (no O_CLOEXEC) */
        fd = atoi(argv[2]);
        int left = atoi(argv[3]);
        if (write(fd, "exec", 4) != 4) {
            printf("fd lost across exec: %s\n", strerrorname_np(errno));
            return -1;
        }
        if (left > 0) {
            char a[16], b[16];
            sprintf(a, "%d", fd);
            sprintf(b, "%d", left - 1);
            execl("/proc/self/exe", "hostile", "execstorm", a, b, (char *)0);
            perror("exec");
            return -1;
        }
        printf("done\n");
        return 0;
    }

    fd = join();
    say(mode);

    if (!strcmp(mode, "crash")) {
        int *volatile p = NULL;
        *p = 1;
    } else if (!strcmp(mode, "forkstorm")) {
        for (i = 0; i < 200; i++) {
            pid = fork();
            if (pid == 0) {
                say("child");
                _exit(0);
            }
            if (pid < 0)
                printf("fork: %s\n", strerrorname_np(errno));
        }
        while (wait(&st) > 0)
            ;
    } else if (!strcmp(mode, "execstorm")) {
        char a[16];
        sprintf(a, "%d", fd);
        execl("/proc/self/exe", "hostile", "execstorm", a, "30", (char *)0);
        perror("exec");
        return -1;
    } else if (!strcmp(mode, "vfork")) {
        for (i = 0; i < 50; i++) {
            pid = vfork();
            if (pid == 0) {
                if (i % 2)
                    execl("/bin/true", "true", (char *)0);
                _exit(0);
            }
            waitpid(pid, &st, 0);
            say("after vfork");
        }
    } else if (!strcmp(mode, "threadexit")) {
        int other = join();
        read(fd, buf, sizeof buf); /* "h joined the room": now the reader blocks */
        pthread_create(&t, NULL, blocked_reader, NULL);
        for (i = 0; i < 100; i++) {
            pthread_t q;
            pthread_create(&q, NULL, quick, NULL);
            pthread_join(q, NULL);
        }
        write(other, "wake up", 7); /* goes to fd's member: the reader wakes */
        pthread_join(t, NULL);
    } else if (!strcmp(mode, "closeblocked")) {
        int other = join();
        read(fd, buf, sizeof buf); /* "h joined the room": now the reader blocks */
        pthread_create(&t, NULL, blocked_reader, NULL);
        usleep(50000);
        close(fd);
        /* the blocked read still holds the file (as in the kernel): a message wakes it */
        write(other, "wake up", 7);
        pthread_join(t, NULL);
        fd = other;
    } else if (!strcmp(mode, "traceme")) {
        long r = ptrace(PTRACE_TRACEME, 0, 0, 0);
        printf("traceme: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        pid = fork();
        if (pid == 0) {
            if (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0)
                raise(SIGSTOP);
            execl("/bin/true", "true", (char *)0);
            _exit(1);
        }
        /* our own little debugger on our own child */
        if (waitpid(pid, &st, 0) == pid && WIFSTOPPED(st))
            ptrace(PTRACE_CONT, pid, 0, 0);
        while (waitpid(pid, &st, 0) == pid && !WIFEXITED(st) && !WIFSIGNALED(st))
            ptrace(PTRACE_CONT, pid, 0, 0);
    } else if (!strcmp(mode, "int80")) {
        char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        long ret;
        strcpy(low, CHATROOM_DEVICE);
        ret = 5; /* i386 open */
        __asm__ volatile("int $0x80" : "+a"(ret) : "b"(low), "c"(2), "d"(0)
                         : "r8", "r9", "r10", "r11", "memory", "cc");
        printf("int80 open: %ld\n", (long)(int)ret);
        ret = 4; /* i386 write on our fd */
        __asm__ volatile("int $0x80" : "+a"(ret) : "b"(fd), "c"(low), "d"(4)
                         : "r8", "r9", "r10", "r11", "memory", "cc");
        printf("int80 write: %ld\n", (long)(int)ret);
    } else if (!strcmp(mode, "noclonefiles")) {
        char *stack = malloc(1 << 16);
        int flags = CLONE_VM | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
        if (clone(child_main, stack + (1 << 16), flags, NULL) < 0)
            perror("clone");
        while (!child_done)
            usleep(1000);
        printf("thread with own files: %s\n", child_done == 1 ? "ok" : "open failed");
        /* and a process with CLONE_VM but no CLONE_FILES */
        child_done = 0;
        pid = clone(child_main, stack + (1 << 16), CLONE_VM | SIGCHLD, NULL);
        waitpid(pid, &st, __WALL);
        say("after clone");
    } else if (!strcmp(mode, "stopstorm")) {
        pid = fork();
        if (pid == 0) {
            pthread_create(&t, NULL, blocked_reader, NULL);
            pthread_create(&t, NULL, spinner, NULL);
            pthread_create(&t, NULL, chatter, NULL);
            for (;;)
                pause();
        }
        for (i = 0; i < 200; i++) {
            kill(pid, SIGSTOP);
            usleep(200);
            kill(pid, SIGCONT);
            usleep(200);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    } else if (!strcmp(mode, "attachsup")) {
        /* attach to whoever traces us, and seize a traced sibling */
        FILE *f = fopen("/proc/self/status", "r");
        int tracer = 0;
        while (fgets(buf, sizeof buf, f))
            if (sscanf(buf, "TracerPid: %d", &tracer) == 1)
                break;
        long r = ptrace(PTRACE_ATTACH, tracer, 0, 0);
        printf("attach tracer: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        if (r == 0) {
            waitpid(tracer, &st, __WALL);
            ptrace(PTRACE_DETACH, tracer, 0, 0);
        }
        r = ptrace(PTRACE_SEIZE, tracer, 0, 0);
        printf("seize tracer: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        if (r == 0)
            ptrace(PTRACE_DETACH, tracer, 0, 0);
        r = ptrace(PTRACE_ATTACH, getppid(), 0, 0);
        printf("attach parent: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        if (r == 0) {
            waitpid(getppid(), &st, __WALL);
            ptrace(PTRACE_DETACH, getppid(), 0, 0);
        }
        pid = fork();
        if (pid == 0) {
            pause();
            _exit(0);
        }
        r = ptrace(PTRACE_ATTACH, pid, 0, 0);
        printf("attach traced child: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    } else if (!strcmp(mode, "fastexit")) {
        for (i = 0; i < 300; i++) {
            pid = fork();
            if (pid == 0) {
                if (fork() == 0)
                    _exit(0);
                _exit(0);
            }
            waitpid(pid, &st, 0);
        }
    } else {
        printf("unknown mode %s\n", mode);
        return -1;
    }
    say("bye");
    printf("done\n");
    return 0;
}
