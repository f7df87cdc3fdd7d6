/* chatzero NAME [MESSAGE]: with a message, say it and leave; without, wait for
 * one by reading again whenever read gives 0 (the read-returns-0 module) */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "../../cprogs/chatroom.h"

int main(int argc, char **argv)
{
    char buf[256];
    int n, zeros = 0;
    int fd = open("/dev/chatroom", O_RDWR);
    ioctl(fd, CHATROOM_IOC_SET_NAME, argv[1]);
    if (argc > 2) {
        write(fd, argv[2], strlen(argv[2]));
        return 0;
    }
    printf("ready\n");
    fflush(stdout);
    while ((n = read(fd, buf, sizeof buf)) == 0)
        zeros++;
    printf("%.*s (after %s)\n", n, buf, zeros ? "some empty reads" : "no empty read");
    return 0;
}
