#ifndef _PTSB_LINUX_RANDOM_H
#define _PTSB_LINUX_RANDOM_H
#include <linux/types.h>
void get_random_bytes(void *buf, size_t n);
u32 get_random_u32(void);
#define prandom_u32 get_random_u32
#endif
