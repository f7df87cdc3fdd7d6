/* mailbox_errors.c - error returns of the mailbox syscalls, and a receive by pid.
 *
 * Usage: mailbox_errors
 *
 * Output, in this order:
 *   send_nopid: -1 ESRCH        mysend(999999, 3, "abc")
 *   receive_bad_ptr: -1 EFAULT  a child sends "abc" to us; we receive it from
 *                               the child into (char *)16. The child is then
 *                               killed (SIGKILL) and reaped, so that a sender
 *                               blocked until its message is taken does not
 *                               hang the test.
 *   handler                     (written by the SIGALRM handler, no SA_RESTART)
 *   receive_eintr: -1 EINTR     myreceive(-1, 10, buf), nobody sends, alarm(1)
 *   receive_from_pid: 5         a child sends "hello" to us; we receive from its pid
 *   got: hello                  only if receive_from_pid > 0
 *   done
 * Exit status 0 (the lines are the result); 1 only if fork/sigaction fails.
 */
#include "util.h"
#include "../../cprogs/mailbox.h"
#include <signal.h>
#include <sys/wait.h>

/* volatile, so the compiler neither warns about nor folds this address */
static char *volatile unmapped = (char *)16;

static void on_alarm(int sig)
{
    static const char msg[] = "handler\n";
    ssize_t r;

    (void)sig;
    r = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void)r;
}

/* Fork a child that sends n bytes of msg to us and exits (0 if sent). */
static pid_t fork_sender(const char *msg, int n)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        report("fork", -1);
        exit(1);
    }
    if (pid == 0) {
        if (mysend(getppid(), n, msg) < 0) {
            fprintf(stderr, "mailbox_errors: child mysend: %s\n", strerror(errno));
            _exit(1);
        }
        _exit(0);
    }
    return pid;
}

static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int main(int argc, char *argv[])
{
    struct sigaction sa;
    char buf[16];
    pid_t child;
    long r;

    (void)argv;
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc != 1) {
        fprintf(stderr, "usage: mailbox_errors\n");
        return 1;
    }

    /* No such process. */
    report("send_nopid", mysend(999999, 3, "abc"));

    /* Receiving into an unmapped buffer. */
    child = fork_sender("abc", 3);
    report("receive_bad_ptr", myreceive(child, 3, unmapped));
    kill(child, SIGKILL);
    reap(child);

    /* A signal interrupts a blocked receive (no SA_RESTART). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGALRM, &sa, NULL) < 0) {
        report("sigaction", -1);
        return 1;
    }
    alarm(1);
    memset(buf, 0, sizeof buf);
    report("receive_eintr", myreceive(-1, 10, buf));
    alarm(0);

    /* Receive from one given pid. */
    child = fork_sender("hello", 5);
    memset(buf, 0, sizeof buf);
    r = myreceive(child, 10, buf);
    report("receive_from_pid", r);
    if (r > 0)
        print_msg("got", buf, r > 10 ? 10 : r);
    reap(child);

    printf("done\n");
    return 0;
}
