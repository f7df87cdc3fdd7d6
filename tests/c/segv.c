/* segv.c - a member that crashes (SIGSEGV) while in the room must still leave it. */
#include "util.h"

int main(void)
{
    volatile int *p = NULL;

    setvbuf(stdout, NULL, _IOLBF, 0);
    open_dev(O_RDWR, "SG");
    printf("ready\n");

    *p = 42;            /* crash */

    printf("not reached\n");
    return 0;
}
