/* int80.c - legacy i386 (int $0x80) and x32 syscall entries, which the sandbox must refuse. */
#include "util.h"
#include <sys/syscall.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

#if defined(__x86_64__)
    {
        long ret = 20;  /* i386 __NR_getpid */
        __asm__ volatile ("int $0x80"
                          : "+a"(ret)
                          :
                          : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
        printf("int80: %ld\n", (long)(int)ret);  /* sign-extend eax */
    }
    report("x32", syscall(__X32_SYSCALL_BIT | 39));  /* x32 getpid */
#else
    printf("int80: unsupported\n");
    printf("x32: unsupported\n");
#endif

    printf("done\n");
    return 0;
}
