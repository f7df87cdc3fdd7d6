/* Read-write semaphores (sleeping). */
#ifndef _PTSB_LINUX_RWSEM_H
#define _PTSB_LINUX_RWSEM_H
#include <linux/types.h>
#include <linux/list.h>

struct rw_semaphore {
	void *magic;
	long count; /* > 0: readers, -1: a writer */
	void *owner;
	const char *name;
	struct list_head wait_list;
};

#define __RWSEM_INITIALIZER(name) \
	{ .magic = &(name), .name = #name, .wait_list = LIST_HEAD_INIT((name).wait_list) }
#define DECLARE_RWSEM(name) struct rw_semaphore name = __RWSEM_INITIALIZER(name)

void __ptsb_init_rwsem(struct rw_semaphore *s, const char *name);
void __ptsb_down_read(struct rw_semaphore *s, void *site);
void __ptsb_down_write(struct rw_semaphore *s, void *site);
int down_read_trylock(struct rw_semaphore *s);
int down_write_trylock(struct rw_semaphore *s);
void __ptsb_up_read(struct rw_semaphore *s, void *site);
void __ptsb_up_write(struct rw_semaphore *s, void *site);
void downgrade_write(struct rw_semaphore *s);
#define init_rwsem(s) __ptsb_init_rwsem((s), #s)
#define down_read(s) __ptsb_down_read((s), __builtin_return_address(0))
#define down_write(s) __ptsb_down_write((s), __builtin_return_address(0))
#define up_read(s) __ptsb_up_read((s), __builtin_return_address(0))
#define up_write(s) __ptsb_up_write((s), __builtin_return_address(0))
#define down_read_interruptible(s) (down_read(s), 0)
#define down_write_killable(s) (down_write(s), 0)
#endif
