/* mailbox.h - user-space wrappers for the mailbox system calls.
 *
 *   long mysend(pid_t pid, int n, const char *buf)
 *       Send the n bytes at buf to process pid. Returns >= 0 on success,
 *       -1 with errno set on error (e.g. ESRCH: no such process). Depending
 *       on the implementation it blocks until pid receives the message, or
 *       queues it and returns at once.
 *
 *   long myreceive(pid_t pid, int n, char *buf)
 *       Receive one message from process pid (any process when pid < 0)
 *       into buf, at most n bytes. Returns the number of bytes read, or -1
 *       with errno set (EFAULT bad buffer, EINTR interrupted by a signal).
 *       The blocking variant waits for a message; in the queued/non-blocking
 *       variant it returns 0 when nothing is queued.
 *
 * The syscall numbers must match the kernel that implements the calls
 * (ptsandbox's mailbox defaults to 400 and 401, in the x86-64 numbering hole);
 * override them with -D__NR_mysend=... . Beware: the "first free" numbers of
 * older kernels, 335 and 336, are uretprobe and uprobe since Linux 6.11/6.16,
 * so a header that uses them does not get ENOSYS on a kernel without the
 * mailbox.
 */
#ifndef MAILBOX_H
#define MAILBOX_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef __NR_mysend
#define __NR_mysend 400
#endif
#ifndef __NR_myreceive
#define __NR_myreceive 401
#endif

static inline long mysend(pid_t pid, int n, const char *buf)
{
    return syscall(__NR_mysend, (long)pid, (long)n, buf);
}

static inline long myreceive(pid_t pid, int n, char *buf)
{
    return syscall(__NR_myreceive, (long)pid, (long)n, buf);
}

#endif /* MAILBOX_H */
