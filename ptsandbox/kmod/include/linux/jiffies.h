/* jiffies at HZ=250 (Debian's configuration), from the monotonic clock. */
#ifndef _PTSB_LINUX_JIFFIES_H
#define _PTSB_LINUX_JIFFIES_H
#include <linux/types.h>
#include <linux/limits.h>
unsigned long __ptsb_jiffies(void);
#define jiffies __ptsb_jiffies()
#define jiffies_64 ((u64)__ptsb_jiffies())
#define get_jiffies_64() ((u64)__ptsb_jiffies())
unsigned long msecs_to_jiffies(unsigned int m);
unsigned long usecs_to_jiffies(unsigned int u);
unsigned int jiffies_to_msecs(unsigned long j);
unsigned int jiffies_to_usecs(unsigned long j);
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)
#define time_after_eq(a, b) ((long)((a) - (b)) >= 0)
#define time_before_eq(a, b) time_after_eq(b, a)
#endif
