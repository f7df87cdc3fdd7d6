#ifndef _PTSB_LINUX_KSTRTOX_H
#define _PTSB_LINUX_KSTRTOX_H
#include <linux/types.h>
int kstrtoull(const char *s, unsigned int base, unsigned long long *res);
int kstrtoll(const char *s, unsigned int base, long long *res);
int kstrtoul(const char *s, unsigned int base, unsigned long *res);
int kstrtol(const char *s, unsigned int base, long *res);
int kstrtouint(const char *s, unsigned int base, unsigned int *res);
int kstrtoint(const char *s, unsigned int base, int *res);
int kstrtou16(const char *s, unsigned int base, u16 *res);
int kstrtou8(const char *s, unsigned int base, u8 *res);
int kstrtobool(const char *s, bool *res);
int kstrtoint_from_user(const char __user *s, size_t count, unsigned int base, int *res);
int kstrtoul_from_user(const char __user *s, size_t count, unsigned int base, unsigned long *res);
#endif
