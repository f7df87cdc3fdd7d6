/* scmrights.c - a device fd passed to another process with SCM_RIGHTS keeps working there. */
#include "util.h"
#include <sys/socket.h>
#include <sys/wait.h>

static int send_fd(int sock, int fd)
{
    char byte = 'F';
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = { 0 };
    struct cmsghdr *c;

    memset(&u, 0, sizeof u);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.space;
    msg.msg_controllen = sizeof u.space;
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = { 0 };
    struct cmsghdr *c;
    int fd;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.space;
    msg.msg_controllen = sizeof u.space;
    if (recvmsg(sock, &msg, 0) <= 0)
        return -1;
    c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
        errno = EBADMSG;
        return -1;
    }
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

int main(void)
{
    int sv[2], fd;
    pid_t pid;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        report("socketpair", -1);
        return 1;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        report("fork", -1);
        return 1;
    }

    if (pid == 0) {
        char buf[MSGBUF_SIZE];
        ssize_t n;

        close(sv[0]);
        fd = recv_fd(sv[1]);
        if (fd < 0) {
            report("child_recv", -1);
            exit(1);
        }
        if (write(fd, "via scm", 7) < 0)
            report("child_write", -1);
        do
            n = read(fd, buf, sizeof buf);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            report("child", -1);
        else
            print_msg("child", buf, n);
        close(fd);
        exit(0);
    }

    close(sv[1]);
    fd = open_dev(O_RDWR, "SC");
    if (send_fd(sv[0], fd) < 0)
        report("send_fd", -1);
    close(fd);
    waitpid(pid, NULL, 0);
    printf("done\n");
    return 0;
}
