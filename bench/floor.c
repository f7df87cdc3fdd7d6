/* floor.c - the per-stop cost floor: a minimal ptrace tracer in C that emulates a device.
 *
 * Usage: floor [-d PATH] PROGRAM [ARGS...]   (PATH defaults to /dev/null)
 *
 * Runs PROGRAM under a seccomp filter that traps openat/open and read, write and
 * ioctl on fds >= 3. The open of PATH is let through (the real file is opened)
 * and its fd remembered; every read/write/ioctl on that fd is then emulated in
 * ONE stop, the way the fastest ptrace emulator would do it: at the
 * PTRACE_EVENT_SECCOMP stop, GETREGS, copy the call's input from the tracee
 * (process_vm_readv: the write's buffer, the ioctl's name), then a single
 * SETREGS with orig_rax = -1 (skip the call) and rax = the result, and CONT.
 *
 * The emulated device is an empty chat room alone: ioctl -> 0, write -> count,
 * read -> -EAGAIN. Other trapped calls run untouched. Only one process is
 * traced (no fork following: a forked child would get ENOSYS from the filter).
 * Exits with the program's status (128+N for signal N). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARG0_LOW offsetof(struct seccomp_data, args[0])
#define COPY_MAX 4096

static void die(const char *what)
{
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    exit(126);
}

static void install_filter(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* open and openat jump straight to RET_TRACE (index 11) */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_read, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),
        /* fd-taking call: trap only fds >= 3 (the kernel reads an fd as unsigned int) */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("prctl(NO_NEW_PRIVS)");
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        die("prctl(SECCOMP)");
}

static ssize_t peek(pid_t pid, unsigned long long addr, void *buf, size_t len)
{
    struct iovec local = {buf, len}, remote = {(void *)addr, len};

    return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

/* Is the path at `addr` in the tracee the device path? */
static int names_device(pid_t pid, unsigned long long addr, const char *device)
{
    char path[256];
    size_t len = strlen(device) + 1;

    if (len > sizeof path || peek(pid, addr, path, len) != (ssize_t)len)
        return 0;
    return memcmp(path, device, len) == 0;
}

static void emulate(pid_t pid, struct user_regs_struct *regs)
{
    static char scratch[COPY_MAX];
    long long result;

    switch (regs->orig_rax) {
    case __NR_ioctl: /* SET_NAME: fetch the name, as a driver's strncpy_from_user */
        result = peek(pid, regs->rdx, scratch, 32) < 0 ? -EFAULT : 0;
        break;
    case __NR_write: { /* one message: copy_from_user of the whole buffer */
        size_t n = regs->rdx < COPY_MAX ? regs->rdx : COPY_MAX;
        result = peek(pid, regs->rsi, scratch, n) < 0 ? -EFAULT : (long long)regs->rdx;
        break;
    }
    default: /* read: the queue is empty and the fd non-blocking */
        result = -EAGAIN;
    }
    regs->orig_rax = -1; /* skip the call ... */
    regs->rax = result;  /* ... and keep this as its result */
    if (ptrace(PTRACE_SETREGS, pid, 0, regs) != 0)
        die("PTRACE_SETREGS");
}

int main(int argc, char *argv[])
{
    const char *device = "/dev/null";
    struct user_regs_struct regs;
    long long dev_fd = -1, stops = 0, emulated = 0;
    int status, argi = 1, want_exit = 0;
    pid_t pid;

    if (argc > 2 && strcmp(argv[1], "-d") == 0) {
        device = argv[2];
        argi = 3;
    }
    if (argi >= argc) {
        fprintf(stderr, "usage: floor [-d PATH] PROGRAM [ARGS...]\n");
        return 2;
    }

    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            die("PTRACE_TRACEME");
        raise(SIGSTOP); /* let the tracer set its options before the filter exists */
        install_filter();
        execvp(argv[argi], &argv[argi]);
        die(argv[argi]);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
        die("waiting for the child's SIGSTOP");
    if (ptrace(PTRACE_SETOPTIONS, pid, 0,
               PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC |
                   PTRACE_O_EXITKILL) != 0)
        die("PTRACE_SETOPTIONS");
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
        die("PTRACE_CONT");

    for (;;) {
        int sig = 0, request = PTRACE_CONT;

        if (waitpid(pid, &status, __WALL) != pid)
            die("waitpid");
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
            stops++;
            if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
                die("PTRACE_GETREGS");
            if (regs.orig_rax == __NR_openat || regs.orig_rax == __NR_open) {
                unsigned long long path = regs.orig_rax == __NR_openat ? regs.rsi : regs.rdi;
                if (names_device(pid, path, device)) {
                    want_exit = 1; /* learn the fd at the syscall-exit stop */
                    request = PTRACE_SYSCALL;
                }
            } else if (dev_fd >= 0 && (long long)(unsigned int)regs.rdi == dev_fd) {
                emulate(pid, &regs);
                emulated++;
            }
        } else if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
            if (want_exit) {
                if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
                    die("PTRACE_GETREGS");
                if ((long long)regs.rax >= 0)
                    dev_fd = (long long)regs.rax;
                want_exit = 0;
            }
        } else if (status >> 16 == 0) {
            sig = WSTOPSIG(status); /* signal-delivery-stop: deliver it */
        }
        if (ptrace(request, pid, 0, sig) != 0 && errno != ESRCH)
            die("resume");
    }
    if (getenv("FLOOR_STATS"))
        fprintf(stderr, "floor: %lld stops, %lld emulated\n", stops, emulated);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
