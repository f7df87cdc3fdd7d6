/* mq_threads.c - two threads of one process register separately on /dev/mq.
 *
 * Usage: mq_threads [DEVICE_PATH]      (default /dev/mq)
 *
 * The emulated device keys callers by thread id, so the main thread and a
 * second thread sharing one fd both register. Output, in this order:
 *   main_reg: <ret>         write "/reg MAIN"          (main thread)
 *   thread_reg: <ret>       write "/reg THR"           (second thread, same fd)
 *   thread_msg: <ret>       write "/msg MAIN from-thread"
 *   main_read: <ret>        one read() by the main thread after the join
 *   main_got: <message>     only if main_read > 0 (expected "THR: from-thread")
 *   done
 */
#include "util.h"
#include "../../cprogs/mq.h"
#include <pthread.h>

static int fd;

static ssize_t send_cmd(const char *cmd)
{
    return write(fd, cmd, strlen(cmd));
}

static void *thread_main(void *arg)
{
    (void)arg;
    report("thread_reg", send_cmd("/reg THR"));
    report("thread_msg", send_cmd("/msg MAIN from-thread"));
    return NULL;
}

int main(int argc, char *argv[])
{
    const char *path = MQ_DEVICE;
    char buf[MQ_MSG_MAX];
    pthread_t tid;
    ssize_t n;
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc > 2) {
        fprintf(stderr, "usage: mq_threads [DEVICE_PATH]\n");
        return 1;
    }
    if (argc == 2)
        path = argv[1];

    fd = open(path, O_RDWR);
    if (fd < 0) {
        report("open", -1);
        return 1;
    }

    report("main_reg", send_cmd("/reg MAIN"));

    err = pthread_create(&tid, NULL, thread_main, NULL);
    if (err != 0) {
        errno = err;
        report("pthread_create", -1);
        return 1;
    }
    pthread_join(tid, NULL);

    do
        n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    report("main_read", n);
    if (n > 0)
        print_msg("main_got", buf, n);

    close(fd);
    printf("done\n");
    return 0;
}
