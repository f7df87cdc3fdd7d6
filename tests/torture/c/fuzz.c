/* fuzz.c - random syscalls on /dev/chatroom fds, with hostile arguments.
 *
 *   fuzz SEED SECONDS PROCS THREADS
 *
 * PROCS processes x THREADS threads call read, write, ioctl, poll, fcntl,
 * dup/dup2, close, lseek, mmap, readv/writev, preadv2/pwritev2, sendmsg,
 * recvmsg, fstat and open on a shared pool of device fds (slots 100..115),
 * with pointers from NULL to kernel addresses and lengths up to SIZE_MAX.
 * Each thread closes, dups into and uses its own share of the slots: a thread
 * replacing an fd number another thread is using at that instant would be a
 * race in the program (a ptrace sandbox checks the fd, then the kernel runs
 * the call: in between, the number may change; see README "Torture").
 * Every failure must carry an errno the kernel can give for that call on a
 * char device (the ALLOWED table below); anything else is printed as
 *   BAD call=NAME ret=R errno=E
 * Each process ends with "proc P calls=N bad=M", the parent with
 *   total calls=N bad=M died=D
 * (died: fuzz processes killed by a signal, which a correct sandbox never
 * causes: every pointer here goes to the kernel, none is dereferenced). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "../../../cprogs/chatroom.h"

#define SLOT0 100
#define NSLOTS 16
#define MAXBAD 20

enum { READ, WRITE, IOCTL, POLL, FCNTL, DUP, DUP2, CLOSE, LSEEK, MMAP, READV,
       WRITEV, PREADV2, PWRITEV2, SENDMSG, RECVMSG, FSTAT, OPEN, NCALLS };
const char *names[NCALLS] = { "read", "write", "ioctl", "poll", "fcntl", "dup",
    "dup2", "close", "lseek", "mmap", "readv", "writev", "preadv2", "pwritev2",
    "sendmsg", "recvmsg", "fstat", "open" };

/* the errnos each call may give on a char device fd (or a closed/bad one) */
int ALLOWED[NCALLS][12] = {
    [READ] = { EAGAIN, EBADF, EFAULT, EINVAL, EINTR },
    [WRITE] = { EAGAIN, EBADF, EFAULT, EINVAL, EINTR, EMSGSIZE },
    [IOCTL] = { EBADF, EFAULT, EINVAL, ENOTTY },
    [POLL] = { EFAULT, EINVAL, EINTR },
    [FCNTL] = { EBADF, EINVAL, EFAULT, EMFILE, EAGAIN, EACCES, ENOLCK, EDEADLK, ESRCH, EPERM,
                EOVERFLOW },
    [DUP] = { EBADF, EMFILE },
    [DUP2] = { EBADF, EMFILE, EBUSY, EINTR },
    [CLOSE] = { EBADF, EINTR },
    [LSEEK] = { ESPIPE, EBADF, EINVAL },
    [MMAP] = { EACCES, EBADF, EINVAL, ENODEV, ENOMEM, EOVERFLOW, EPERM, EEXIST, EOPNOTSUPP, EAGAIN },
    [READV] = { EAGAIN, EBADF, EFAULT, EINVAL, EINTR },
    [WRITEV] = { EAGAIN, EBADF, EFAULT, EINVAL, EINTR, EMSGSIZE },
    [PREADV2] = { EAGAIN, EBADF, EFAULT, EINVAL, EINTR, EOPNOTSUPP, ESPIPE },
    [PWRITEV2] = { EAGAIN, EBADF, EFAULT, EINVAL, EINTR, EMSGSIZE, EOPNOTSUPP, ESPIPE },
    [SENDMSG] = { ENOTSOCK, EBADF, EFAULT, EINVAL },
    [RECVMSG] = { ENOTSOCK, EBADF, EFAULT, EINVAL },
    [FSTAT] = { EBADF, EFAULT },
    [OPEN] = { ENOTDIR, EEXIST, EMFILE, ENFILE, EINVAL, EISDIR, EBADF },
};

struct worker {
    int proc, id, slot0, nslots;
    uint64_t rng;
    long calls, bad;
} workers[64];

char *buf;          /* 64 KiB of good memory */
char *ro;           /* a read-only page */
char *guard;        /* a page right before a PROT_NONE page */
char *gone;         /* an unmapped page */
volatile int stop;

uint64_t rnd(struct worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

void *ptr(struct worker *w)
{
    switch (rnd(w) % 9) {
    case 0: return NULL;
    case 1: return (void *)1;
    case 2: return (void *)-1;
    case 3: return (void *)0xffffffffff600000UL;
    case 4: return ro;
    case 5: return guard + 4096 - 10;
    case 6: return gone;
    default: return buf + rnd(w) % 60000;
    }
}

size_t len(struct worker *w)
{
    switch (rnd(w) % 10) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 1024;
    case 3: return 1025;
    case 4: return 0x7ffff000;
    case 5: return SIZE_MAX;
    case 6: return (size_t)1 << 62;
    case 7: return rnd(w);
    default: return rnd(w) % 2000;
    }
}

int fd(struct worker *w)
{
    switch (rnd(w) % 12) {
    case 0: return -1;
    case 1: return 0x7fffffff;
    case 2: return SLOT0 + NSLOTS + 50; /* never open */
    default: return w->slot0 + rnd(w) % w->nslots;
    }
}

int myslot(struct worker *w)
{
    return w->slot0 + rnd(w) % w->nslots;
}

int open_flags(struct worker *w)
{
    int choice[] = { O_RDWR, O_RDONLY, O_WRONLY, 3, O_RDWR | O_NONBLOCK, O_RDONLY | O_NONBLOCK,
                     O_RDWR | O_CLOEXEC, O_PATH, O_RDWR | O_DIRECTORY, O_RDWR | O_CREAT | O_EXCL,
                     O_RDWR | O_APPEND | O_NONBLOCK, O_WRONLY | O_TRUNC };
    return choice[rnd(w) % 12];
}

void *fuzz(void *arg)
{
    struct worker *w = arg;
    struct iovec iov[4];
    struct msghdr mh;
    struct pollfd pf[4];
    struct stat st;
    int call, i, e;
    long r;

    while (!stop) {
        call = rnd(w) % NCALLS;
        errno = 0;
        switch (call) {
        case READ: r = read(fd(w), ptr(w), len(w)); break;
        case WRITE: r = write(fd(w), ptr(w), len(w)); break;
        case IOCTL: {
            unsigned long cmds[] = { CHATROOM_IOC_SET_NAME, FIONBIO, FIONREAD, FIOASYNC, FIOCLEX,
                                     FIONCLEX, 0x5401 /* TCGETS */, _IOW('k', 2, int), rnd(w) };
            r = ioctl(fd(w), cmds[rnd(w) % 9], ptr(w));
            break;
        }
        case POLL:
            for (i = 0; i < 4; i++) {
                pf[i].fd = fd(w);
                pf[i].events = rnd(w);
            }
            r = poll(rnd(w) % 5 ? (void *)pf : ptr(w), rnd(w) % 5, 0);
            break;
        case FCNTL: {
            int cmds[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD, F_DUPFD_CLOEXEC, F_GETLK,
                           F_SETLK, F_GETOWN, F_SETOWN, 1234 };
            int c = cmds[rnd(w) % 11];
            long a = (c == F_GETLK || c == F_SETLK) ? (long)ptr(w) : (long)(rnd(w) % 4096);
            if (c == F_SETOWN)
                a = getpid();
            if (c == F_SETFL && rnd(w) % 2)
                a = O_NONBLOCK; /* mostly stay non-blocking */
            r = fcntl(fd(w), c, a);
            if (r >= 0 && (c == F_DUPFD || c == F_DUPFD_CLOEXEC)) {
                dup2(r, myslot(w));
                close(r);
            }
            break;
        }
        case DUP:
            r = dup(fd(w));
            if (r >= 0) {
                dup2(r, myslot(w));
                close(r);
            }
            break;
        case DUP2: r = dup2(fd(w), myslot(w)); break;
        case CLOSE: r = close(myslot(w)); break;
        case LSEEK: r = lseek(fd(w), rnd(w), rnd(w) % 6); break;
        case MMAP: {
            void *m = mmap(NULL, len(w) % (1 << 20), rnd(w) & 7,
                           (rnd(w) & ~(MAP_FIXED | MAP_ANONYMOUS | MAP_HUGETLB)) & 0xfffff, fd(w),
                           (rnd(w) % 4) * 4096 + (rnd(w) % 2));
            r = m == MAP_FAILED ? -1 : 0;
            if (r == 0) {
                printf("BAD call=mmap succeeded on a device fd\n");
                w->bad++;
                munmap(m, 4096);
            }
            break;
        }
        case READV: case WRITEV: case PREADV2: case PWRITEV2: {
            int n = rnd(w) % 5;
            for (i = 0; i < 4; i++) {
                iov[i].iov_base = ptr(w);
                iov[i].iov_len = len(w);
            }
            if (rnd(w) % 8 == 0)
                n = 1025;
            void *v = rnd(w) % 6 ? (void *)iov : ptr(w);
            if (n > 4 && v == iov)
                v = buf; /* 1025 segments: from the big buffer */
            if (call == READV) r = readv(fd(w), v, n);
            else if (call == WRITEV) r = writev(fd(w), v, n);
            else {
                int fl = rnd(w) % 3 ? 0 : (int)rnd(w);
                off_t off = rnd(w) % 3 ? -1 : (off_t)(rnd(w) % 100);
                r = call == PREADV2 ? preadv2(fd(w), v, n, off, fl) : pwritev2(fd(w), v, n, off, fl);
            }
            break;
        }
        case SENDMSG: case RECVMSG:
            memset(&mh, 0, sizeof mh);
            iov[0].iov_base = buf;
            iov[0].iov_len = 100;
            mh.msg_iov = iov;
            mh.msg_iovlen = 1;
            if (rnd(w) % 2) {
                mh.msg_control = ptr(w);
                mh.msg_controllen = rnd(w) % 200;
            }
            r = call == SENDMSG ? sendmsg(fd(w), rnd(w) % 4 ? &mh : ptr(w), MSG_DONTWAIT)
                                : recvmsg(fd(w), rnd(w) % 4 ? &mh : ptr(w), MSG_DONTWAIT);
            break;
        case FSTAT: {
            int f = fd(w);
            void *p = rnd(w) % 4 ? (void *)&st : ptr(w);
            r = fstat(f, p);
            if (r == 0 && p == &st && !S_ISCHR(st.st_mode)) {
                printf("BAD call=fstat fd=%d mode=%o\n", f, st.st_mode);
                w->bad++;
            }
            break;
        }
        case OPEN:
            r = open(CHATROOM_DEVICE, open_flags(w), 0600);
            if (r >= 0) {
                dup2(r, myslot(w));
                close(r);
            }
            break;
        }
        e = errno;
        w->calls++;
        if (r < 0) {
            for (i = 0; i < 12 && ALLOWED[call][i]; i++)
                if (ALLOWED[call][i] == e)
                    break;
            if (i == 12 || !ALLOWED[call][i]) {
                if (w->bad < MAXBAD)
                    printf("BAD call=%s ret=%ld errno=%s\n", names[call], r, strerrorname_np(e));
                w->bad++;
            }
        }
    }
    return NULL;
}

int child(int proc, unsigned seed, int seconds, int nthreads)
{
    pthread_t t[64];
    long calls = 0, bad = 0;
    int own, i;
    char name[CHATROOM_NAME_MAX] = {0};
    time_t end = time(NULL) + seconds;

    buf = malloc(65536);
    memset(buf, 0, 65536);
    ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    guard = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(guard + 4096, 4096, PROT_NONE);
    gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 4096);
    for (i = 0; i < NSLOTS; i++) {
        int f = open(CHATROOM_DEVICE, O_RDWR | O_NONBLOCK);
        dup2(f, SLOT0 + i);
        close(f);
    }
    own = open(CHATROOM_DEVICE, O_RDWR | O_NONBLOCK);
    sprintf(name, "fuzz%d", proc);
    ioctl(own, CHATROOM_IOC_SET_NAME, name);
    for (i = 0; i < nthreads; i++) {
        workers[i].proc = proc;
        workers[i].id = i;
        workers[i].rng = (seed * 1000003ULL + proc * 1009 + i) | 1;
        workers[i].nslots = NSLOTS / nthreads > 0 ? NSLOTS / nthreads : 1;
        workers[i].slot0 = SLOT0 + (i * workers[i].nslots) % NSLOTS;
        pthread_create(&t[i], NULL, fuzz, &workers[i]);
    }
    /* keep some traffic going so that a reader made blocking wakes up */
    while (time(NULL) < end) {
        write(own, "tick", 4);
        usleep(10000);
    }
    stop = 1;
    usleep(200000);
    for (i = 0; i < nthreads; i++) {
        calls += workers[i].calls;
        bad += workers[i].bad;
    }
    printf("proc %d calls=%ld bad=%ld\n", proc, calls, bad);
    fflush(stdout);
    _exit(0); /* threads still blocked in a read go with us */
}

int main(int argc, char **argv)
{
    unsigned seed = atoi(argv[1]);
    int seconds = atoi(argv[2]), procs = atoi(argv[3]), threads = atoi(argv[4]);
    long calls = 0, bad = 0, died = 0, c, b;
    int p[2], st, i;
    char line[256];
    FILE *in;

    setvbuf(stdout, NULL, _IOLBF, 0);
    pipe(p);
    for (i = 0; i < procs; i++) {
        if (fork() == 0) {
            close(p[0]);
            dup2(p[1], 1);
            child(i, seed, seconds, threads);
        }
    }
    close(p[1]);
    in = fdopen(p[0], "r");
    while (fgets(line, sizeof line, in)) {
        fputs(line, stdout);
        if (sscanf(line, "proc %*d calls=%ld bad=%ld", &c, &b) == 2) {
            calls += c;
            bad += b;
        }
    }
    while (wait(&st) > 0)
        if (WIFSIGNALED(st))
            died++;
    printf("total calls=%ld bad=%ld died=%d\n", calls, bad, (int)died);
    return bad || died ? 1 : 0;
}
