/* kmod_fifo_script: run "w N" (write N bytes a,b,c...) / "r N" (read up to N)
 * lines from stdin on /dev/recfifo and print each result */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/ioctl.h>

int main(void)
{
    char line[64], buf[300];
    int fd = open("/dev/recfifo", O_RDWR), i, n, k;
    static int next = 0;
    if (fd < 0) {
        perror("open");
        return 1;
    }
    ioctl(fd, _IO('f', 2)); /* start empty */
    while (fgets(line, sizeof line, stdin)) {
        char op;
        if (sscanf(line, "%c %d", &op, &n) != 2)
            continue;
        if (op == 'w') {
            for (i = 0; i < n; i++)
                buf[i] = 'a' + (next++ % 26);
            k = write(fd, buf, n);
            printf("w %d -> %d used %d\n", n, k, ioctl(fd, _IO('f', 0)));
        } else {
            k = read(fd, buf, n);
            buf[k > 0 ? k : 0] = 0;
            printf("r %d -> %d [%s] used %d\n", n, k, buf, ioctl(fd, _IO('f', 0)));
        }
    }
    return 0;
}
