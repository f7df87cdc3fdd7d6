/* Under mailbox,mysend_nr=292,myreceive_nr=293 (a 2.6-era course's numbers):
 * the real pipe2 (glibc's pipe) and dup3 still work, and so do the mailbox
 * calls, even with arguments that look like pipe2's flags (n = 128 = O_EXCL). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    char buf[200] = {0};

    printf("pipe %d\n", pipe(fds));
    printf("pipe write %d\n", (int)write(fds[1], "ab", 2));
    printf("pipe read %d\n", (int)read(fds[0], buf, 2));
    printf("pipe2 %d\n", pipe2(fds, O_CLOEXEC | O_NONBLOCK));
    printf("dup3 %d\n", dup3(fds[0], 40, O_CLOEXEC));
    printf("mysend %ld\n", syscall(292, (long)getpid(), 5L, "hello"));
    printf("myreceive %ld\n", syscall(293, -1L, 128L, buf));
    printf("got %s\n", buf);
    printf("mysend %ld\n", syscall(292, (long)getpid(), 0L, "x"));
    printf("myreceive %ld\n", syscall(293, (long)getpid(), 0L, buf));
    return 0;
}
