/* fdreuse.c - a device fd number that comes to name something else.
 *
 * Usage: fdreuse SCENARIO. Opens /dev/chatroom (O_RDWR|O_NONBLOCK), uses it
 * (an ioctl and a read: the sandbox has now resolved that fd), then makes the
 * same number name the read end of a pipe holding "x", and reads the number
 * again: a read of the pipe gives 1 ("reread: 1 x"); a read served as the
 * device's would give EAGAIN. Scenarios, by how the number is replaced:
 *   close        close(fd), pipe() takes the lowest free number
 *   dup2, dup3   dup2/dup3 of the pipe onto the number
 *   close_range  close_range(fd, fd, 0), then pipe()
 *   exec         O_CLOEXEC; exec of ourselves, whose pipe() takes the number
 *   thread       another thread closes it and makes the pipe
 *   fork         a child replaces it in its own table; the parent's is intact
 *   clonefiles   a process sharing the table (clone CLONE_FILES) replaces a
 *                number opened after the clone, with no trapped call
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chatroom.h"

static int use_device(int fd)
{
    char buf[64];
    if (ioctl(fd, CHATROOM_IOC_SET_NAME, "FR") != 0) {
        perror("ioctl");
        exit(1);
    }
    if (read(fd, buf, sizeof buf) != -1 || errno != EAGAIN) {
        fprintf(stderr, "device read: expected EAGAIN\n");
        exit(1);
    }
    return fd;
}

static int open_device(int flags)
{
    int fd = open("/dev/chatroom", O_RDWR | O_NONBLOCK | flags);
    if (fd < 0 || dup(fd) < 0) { /* a second reference: replacing fd releases nothing */
        perror("open");
        exit(1);
    }
    return use_device(fd);
}

/* A pipe holding "x"; its read end at `want` (moved there if pipe() chose another). */
static void pipe_at(int want)
{
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        exit(1);
    }
    if (write(p[1], "x", 1) != 1)
        exit(1);
    if (p[0] != want) {
        fprintf(stderr, "pipe read end at %d, not %d\n", p[0], want);
        exit(1);
    }
}

static void reread(int fd)
{
    char buf[64] = "";
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        printf("reread: -1 %s\n", strerrorname_np(errno));
    else
        printf("reread: %zd %.*s\n", n, (int)n, buf);
    fflush(stdout);
}

static int thread_fd;

static void *replace_in_thread(void *arg)
{
    (void)arg;
    close(thread_fd);
    pipe_at(thread_fd);
    return NULL;
}

static int sync_pipe[2];

static int clone_child(void *arg)
{
    int shared_fd, p[2];
    (void)arg;
    /* the parent has opened and used shared_fd (no CLONE_VM: it sends the number) */
    if (read(sync_pipe[0], &shared_fd, sizeof shared_fd) != sizeof shared_fd)
        _exit(1);
    /* neither call stops: the filter watching shared_fd is the parent's only */
    if (pipe(p) != 0 || write(p[1], "x", 1) != 1 || dup2(p[0], shared_fd) != shared_fd)
        _exit(1);
    _exit(0);
}

int main(int argc, char *argv[])
{
    int fd, p[2];

    if (argc < 2) {
        fprintf(stderr, "usage: fdreuse SCENARIO\n");
        return 2;
    }
    const char *how = argv[1];
    if (strcmp(how, "exec2") == 0) { /* after the exec: fd 3 was closed by it */
        pipe_at(atoi(argv[2]));
        reread(atoi(argv[2]));
        return 0;
    }
    if (strcmp(how, "clonefiles") == 0) {
        static char stack[64 * 1024];
        int status;
        if (pipe(sync_pipe) != 0)
            return 1;
        pid_t child = clone(clone_child, stack + sizeof stack, CLONE_FILES | SIGCHLD, NULL);
        if (child < 0) {
            perror("clone");
            return 1;
        }
        int shared_fd = open_device(0);
        use_device(shared_fd);
        if (write(sync_pipe[1], &shared_fd, sizeof shared_fd) != sizeof shared_fd || waitpid(child, &status, 0) != child ||
            !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child failed\n");
            return 1;
        }
        reread(shared_fd);
        return 0;
    }
    fd = open_device(strcmp(how, "exec") == 0 ? O_CLOEXEC : 0);
    if (strcmp(how, "close") == 0) {
        close(fd);
        pipe_at(fd);
    } else if (strcmp(how, "dup2") == 0 || strcmp(how, "dup3") == 0) {
        if (pipe(p) != 0 || write(p[1], "x", 1) != 1)
            return 1;
        int got = how[3] == '2' ? dup2(p[0], fd) : dup3(p[0], fd, 0);
        if (got != fd) {
            perror(how);
            return 1;
        }
    } else if (strcmp(how, "close_range") == 0) {
        if (syscall(SYS_close_range, fd, fd, 0) != 0) {
            perror("close_range");
            return 1;
        }
        pipe_at(fd);
    } else if (strcmp(how, "exec") == 0) {
        char num[16];
        snprintf(num, sizeof num, "%d", fd);
        execl("/proc/self/exe", argv[0], "exec2", num, (char *)NULL);
        perror("exec");
        return 1;
    } else if (strcmp(how, "thread") == 0) {
        pthread_t th;
        thread_fd = fd;
        if (pthread_create(&th, NULL, replace_in_thread, NULL) != 0 ||
            pthread_join(th, NULL) != 0)
            return 1;
    } else if (strcmp(how, "fork") == 0) {
        int status;
        pid_t child = fork();
        if (child == 0) {
            close(fd);
            pipe_at(fd);
            reread(fd);
            _exit(0);
        }
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            return 1;
        /* the parent's number still names the device */
        printf("parent ioctl: %d\n", ioctl(fd, CHATROOM_IOC_SET_NAME, "FP"));
        return 0;
    } else {
        fprintf(stderr, "unknown scenario %s\n", how);
        return 2;
    }
    reread(fd);
    return 0;
}
