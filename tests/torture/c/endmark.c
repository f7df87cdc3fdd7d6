/* endmark.c - joins the chat room as "end", writes "END" when told (a line on
 * stdin), and stays a member until its stdin ends. */
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "../../../cprogs/chatroom.h"

int main()
{
    char name[CHATROOM_NAME_MAX] = "end";
    char line[64];
    int fd = open(CHATROOM_DEVICE, O_RDWR);

    if (fd < 0 || ioctl(fd, CHATROOM_IOC_SET_NAME, name) < 0) {
        perror("endmark");
        return -1;
    }
    printf("ready\n");
    fflush(stdout);
    fgets(line, sizeof line, stdin);
    if (write(fd, "END", 3) != 3)
        perror("write");
    printf("sent\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin))
        ;
    return 0;
}
