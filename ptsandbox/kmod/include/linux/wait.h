/* Wait queues. A sleeping call stays in flight on its own host thread and is
 * resumed by wake_up (not re-run); a signal to the caller makes the
 * interruptible forms return -ERESTARTSYS. */
#ifndef _PTSB_LINUX_WAIT_H
#define _PTSB_LINUX_WAIT_H
#include <linux/types.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/sched.h>
#include <linux/errno.h>

#define WQ_FLAG_EXCLUSIVE 0x01
#define WQ_FLAG_POLL 0x80 /* the runtime's: a poll_wait registration */

struct wait_queue_entry;
typedef int (*wait_queue_func_t)(struct wait_queue_entry *wq_entry, unsigned mode, int flags, void *key);
struct wait_queue_entry {
	unsigned int flags;
	void *private;
	wait_queue_func_t func;
	struct list_head entry;
};
typedef struct wait_queue_entry wait_queue_entry_t;
typedef struct wait_queue_entry wait_queue_t;

struct wait_queue_head {
	spinlock_t lock;
	struct list_head head;
};
typedef struct wait_queue_head wait_queue_head_t;

int autoremove_wake_function(struct wait_queue_entry *e, unsigned mode, int sync, void *key);
int default_wake_function(struct wait_queue_entry *e, unsigned mode, int sync, void *key);

#define __WAIT_QUEUE_HEAD_INITIALIZER(name) \
	{ .lock = __SPIN_LOCK_UNLOCKED(name.lock), .head = { &(name).head, &(name).head } }
#define DECLARE_WAIT_QUEUE_HEAD(name) struct wait_queue_head name = __WAIT_QUEUE_HEAD_INITIALIZER(name)
#define __WAITQUEUE_INITIALIZER(name, tsk) \
	{ .private = tsk, .func = default_wake_function, .entry = { NULL, NULL } }
#define DECLARE_WAITQUEUE(name, tsk) struct wait_queue_entry name = __WAITQUEUE_INITIALIZER(name, tsk)
#define DEFINE_WAIT_FUNC(name, function) \
	struct wait_queue_entry name = { .private = current, .func = function, \
					 .entry = LIST_HEAD_INIT((name).entry) }
#define DEFINE_WAIT(name) DEFINE_WAIT_FUNC(name, autoremove_wake_function)

void __ptsb_init_waitqueue_head(struct wait_queue_head *wq, const char *name);
#define init_waitqueue_head(wq) __ptsb_init_waitqueue_head((wq), #wq)
void init_wait_entry(struct wait_queue_entry *e, int flags);
#define init_wait(e) init_wait_entry((e), 0)
static inline void init_waitqueue_entry(struct wait_queue_entry *e, struct task_struct *p)
{
	e->flags = 0;
	e->private = p;
	e->func = default_wake_function;
}
void add_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e);
void add_wait_queue_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e);
void remove_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e);
void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *e, int state);
void prepare_to_wait_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e, int state);
long prepare_to_wait_event(struct wait_queue_head *wq, struct wait_queue_entry *e, int state);
void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *e);
int waitqueue_active(struct wait_queue_head *wq);
void __wake_up(struct wait_queue_head *wq, unsigned int mode, int nr, void *key);

#define wake_up(x) __wake_up(x, TASK_NORMAL, 1, NULL)
#define wake_up_nr(x, nr) __wake_up(x, TASK_NORMAL, nr, NULL)
#define wake_up_all(x) __wake_up(x, TASK_NORMAL, 0, NULL)
#define wake_up_interruptible(x) __wake_up(x, TASK_INTERRUPTIBLE, 1, NULL)
#define wake_up_interruptible_nr(x, nr) __wake_up(x, TASK_INTERRUPTIBLE, nr, NULL)
#define wake_up_interruptible_all(x) __wake_up(x, TASK_INTERRUPTIBLE, 0, NULL)
#define wake_up_interruptible_sync(x) wake_up_interruptible(x)
#define wake_up_locked(x) wake_up(x)
#define wake_up_poll(x, m) __wake_up(x, TASK_NORMAL, 1, (void *)(unsigned long)(m))
#define wake_up_interruptible_poll(x, m) __wake_up(x, TASK_INTERRUPTIBLE, 1, (void *)(unsigned long)(m))

#define __ptsb_interruptible(state) ((state) == TASK_INTERRUPTIBLE || (state) == TASK_KILLABLE)

/* the loop every wait_event form shares: queue up, test, sleep, until true or signalled */
#define ___ptsb_wait_event(wq_head, condition, state, exclusive, ret, cmd) ({ \
	__label__ __out; \
	struct wait_queue_entry __wq_entry; \
	long __ret = ret; \
	init_wait_entry(&__wq_entry, exclusive ? WQ_FLAG_EXCLUSIVE : 0); \
	for (;;) { \
		long __int = prepare_to_wait_event(&(wq_head), &__wq_entry, state); \
		if (condition) \
			break; \
		if (__ptsb_interruptible(state) && __int) { \
			__ret = __int; \
			goto __out; \
		} \
		cmd; \
	} \
	finish_wait(&(wq_head), &__wq_entry); \
__out: __ret; })

#define wait_event(wq, condition) do { \
	might_sleep(); \
	if (!(condition)) \
		(void)___ptsb_wait_event(wq, condition, TASK_UNINTERRUPTIBLE, 0, 0, schedule()); \
} while (0)
#define wait_event_interruptible(wq, condition) ({ \
	int __r = 0; might_sleep(); \
	if (!(condition)) \
		__r = ___ptsb_wait_event(wq, condition, TASK_INTERRUPTIBLE, 0, 0, schedule()); \
	__r; })
#define wait_event_killable(wq, condition) ({ \
	int __r = 0; might_sleep(); \
	if (!(condition)) \
		__r = ___ptsb_wait_event(wq, condition, TASK_KILLABLE, 0, 0, schedule()); \
	__r; })
#define wait_event_interruptible_exclusive(wq, condition) ({ \
	int __r = 0; might_sleep(); \
	if (!(condition)) \
		__r = ___ptsb_wait_event(wq, condition, TASK_INTERRUPTIBLE, 1, 0, schedule()); \
	__r; })
#define ___ptsb_wait_cond_timeout(condition) ({ \
	bool __cond = (condition); if (__cond && !__ret) __ret = 1; __cond || !__ret; })
#define ___ptsb_wait_event_timeout(wq, condition, state, timeout) ({ \
	long __ret = (timeout); might_sleep(); \
	if (!___ptsb_wait_cond_timeout(condition)) \
		__ret = ___ptsb_wait_event(wq, ___ptsb_wait_cond_timeout(condition), \
			state, 0, timeout, __ret = schedule_timeout(__ret)); \
	__ret; })
#define wait_event_timeout(wq, condition, timeout) \
	___ptsb_wait_event_timeout(wq, condition, TASK_UNINTERRUPTIBLE, timeout)
#define wait_event_interruptible_timeout(wq, condition, timeout) \
	___ptsb_wait_event_timeout(wq, condition, TASK_INTERRUPTIBLE, timeout)
#define wait_event_killable_timeout(wq, condition, timeout) \
	___ptsb_wait_event_timeout(wq, condition, TASK_KILLABLE, timeout)
#endif
