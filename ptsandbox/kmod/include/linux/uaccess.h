/* Access to the calling process's memory. User pointers are never directly
 * dereferenceable (as with SMAP): the host maps nothing at them, so a direct
 * access faults and is reported as an Oops. copy_* return the bytes NOT copied. */
#ifndef _PTSB_LINUX_UACCESS_H
#define _PTSB_LINUX_UACCESS_H
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/sched.h>

unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);
unsigned long clear_user(void __user *to, unsigned long n);
long strncpy_from_user(char *dst, const char __user *src, long count);
long strnlen_user(const char __user *src, long n);
int __ptsb_access_ok(const void __user *addr, unsigned long size);

#define __copy_to_user copy_to_user
#define __copy_from_user copy_from_user
#define raw_copy_to_user copy_to_user
#define raw_copy_from_user copy_from_user
#define __clear_user clear_user

/* access_ok(addr, size) since 5.0; access_ok(type, addr, size) before: both accepted */
#define VERIFY_READ 0
#define VERIFY_WRITE 1
#define __ptsb_access_ok2(addr, size) __ptsb_access_ok((const void __user *)(addr), (size))
#define __ptsb_access_ok3(type, addr, size) __ptsb_access_ok2(addr, size)
#define __ptsb_access_pick(_1, _2, _3, name, ...) name
#define access_ok(...) __ptsb_access_pick(__VA_ARGS__, __ptsb_access_ok3, __ptsb_access_ok2, )(__VA_ARGS__)

#define get_user(x, ptr) ({ \
	__typeof__(*(ptr)) __gu_val; \
	int __gu_err = copy_from_user(&__gu_val, (ptr), sizeof(__gu_val)) ? -EFAULT : 0; \
	if (__gu_err) __builtin_memset(&__gu_val, 0, sizeof(__gu_val)); \
	(x) = (__typeof__(*(ptr)))__gu_val; \
	__gu_err; })
#define put_user(x, ptr) ({ \
	__typeof__(*(ptr)) __pu_val = (x); \
	copy_to_user((ptr), &__pu_val, sizeof(__pu_val)) ? -EFAULT : 0; })
#define __get_user get_user
#define __put_user put_user

static inline void pagefault_disable(void) {}
static inline void pagefault_enable(void) {}
#endif
