/* leaderexit.c - main calls pthread_exit; the other thread then uses the device. */
#include "util.h"
#include <pthread.h>
#include <poll.h>
#include <time.h>

pid_t leader;

int leader_gone(void)
{
    char path[64], line[128];
    FILE *f;
    int gone = 0;

    sprintf(path, "/proc/self/task/%d/status", leader);
    f = fopen(path, "r");
    if (!f)
        return 1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "State:", 6) == 0)
            gone = strchr(line, 'Z') != NULL;
    fclose(f);
    return gone;
}

void *worker(void *arg)
{
    struct timespec ms = { 0, 1000000 };
    char buf[MSGBUF_SIZE];
    struct pollfd p;
    int fd;
    ssize_t n;

    while (!leader_gone())
        nanosleep(&ms, NULL);
    fd = open_dev(O_RDWR, "LX");
    printf("opened after the leader exited\n");
    write(fd, "leader is gone", 14);
    n = read(fd, buf, sizeof buf);
    if (n < 0)
        report("read", -1);
    else
        print_msg("got", buf, n);
    p.fd = fd;
    p.events = POLLIN;
    report("poll after read", poll(&p, 1, 0));
    close(fd);
    printf("done\n");
    exit(0);
}

int main()
{
    pthread_t t;

    setvbuf(stdout, NULL, _IOLBF, 0);
    leader = getpid();
    pthread_create(&t, NULL, worker, NULL);
    pthread_exit(NULL);
}
