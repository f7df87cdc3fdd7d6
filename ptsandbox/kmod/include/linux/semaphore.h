/* Counting semaphores (sleeping). */
#ifndef _PTSB_LINUX_SEMAPHORE_H
#define _PTSB_LINUX_SEMAPHORE_H
#include <linux/types.h>
#include <linux/list.h>

struct semaphore {
	void *magic;
	int count;
	const char *name;
	struct list_head wait_list;
};

#define __SEMAPHORE_INITIALIZER(sname, n) \
	{ .magic = &(sname), .count = (n), .name = #sname, .wait_list = LIST_HEAD_INIT((sname).wait_list) }
#define DEFINE_SEMAPHORE(name) struct semaphore name = __SEMAPHORE_INITIALIZER(name, 1)

void sema_init(struct semaphore *s, int val);
void down(struct semaphore *s);
int down_interruptible(struct semaphore *s);
int down_killable(struct semaphore *s);
int down_trylock(struct semaphore *s);
int down_timeout(struct semaphore *s, long jiffies);
void up(struct semaphore *s);
#endif
