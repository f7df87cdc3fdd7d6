/* Sleeping mutexes: a contended mutex_lock sleeps (the caller is parked). */
#ifndef _PTSB_LINUX_MUTEX_H
#define _PTSB_LINUX_MUTEX_H
#include <linux/types.h>
#include <linux/list.h>

struct mutex {
	void *magic; /* points at the mutex itself once initialised */
	void *owner;
	const char *name;
	void *site;
	struct list_head wait_list;
};

#define __MUTEX_INITIALIZER(lockname) \
	{ .magic = &(lockname), .name = #lockname, .wait_list = LIST_HEAD_INIT((lockname).wait_list) }
#define DEFINE_MUTEX(m) struct mutex m = __MUTEX_INITIALIZER(m)

void __ptsb_mutex_init(struct mutex *m, const char *name);
void __ptsb_mutex_lock(struct mutex *m, void *site);
int __ptsb_mutex_lock_interruptible(struct mutex *m, void *site);
int __ptsb_mutex_trylock(struct mutex *m, void *site);
void __ptsb_mutex_unlock(struct mutex *m, void *site);
int mutex_is_locked(struct mutex *m);
void mutex_destroy(struct mutex *m);

#define mutex_init(m) __ptsb_mutex_init((m), #m)
#define mutex_lock(m) __ptsb_mutex_lock((m), __builtin_return_address(0))
#define mutex_lock_nested(m, c) mutex_lock(m)
#define mutex_lock_interruptible(m) __ptsb_mutex_lock_interruptible((m), __builtin_return_address(0))
#define mutex_lock_killable mutex_lock_interruptible
#define mutex_trylock(m) __ptsb_mutex_trylock((m), __builtin_return_address(0))
#define mutex_unlock(m) __ptsb_mutex_unlock((m), __builtin_return_address(0))
#endif
