#ifndef _PTSB_LINUX_DELAY_H
#define _PTSB_LINUX_DELAY_H
#include <linux/types.h>
void msleep(unsigned int msecs);
unsigned long msleep_interruptible(unsigned int msecs);
void ssleep(unsigned int secs);
void usleep_range(unsigned long min, unsigned long max);
void udelay(unsigned long usecs);
void mdelay(unsigned long msecs);
void ndelay(unsigned long nsecs);
#endif
