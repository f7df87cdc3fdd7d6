#ifndef _PTSB_LINUX_INIT_H
#define _PTSB_LINUX_INIT_H
#include <linux/compiler.h>
typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);
/* module_init(fn) makes fn the module's init_module, as kbuild's module build does */
#define module_init(initfn) \
	static inline initcall_t __maybe_unused __inittest(void) { return initfn; } \
	int init_module(void) __attribute__((alias(#initfn)));
#define module_exit(exitfn) \
	static inline exitcall_t __maybe_unused __exittest(void) { return exitfn; } \
	void cleanup_module(void) __attribute__((alias(#exitfn)));
#define late_initcall(fn) module_init(fn)
#define device_initcall(fn) module_init(fn)
#endif
