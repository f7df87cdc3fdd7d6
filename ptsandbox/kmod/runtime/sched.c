/* current, sleeping and waking: wait queues, schedule(), signals to a sleeping
 * call, jiffies and delays, and the hung-task check. */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/random.h>

#include "ptsb.h"
#include "rt.h"


static struct ptsb_task *live; /* calls in flight, under the sched lock */
static struct task_struct loader_task = { .pid = 1, .tgid = 1, .comm = "insmod" };
static struct cred root_cred;
static long start_ms;
long ptsb_hung_timeout_ms = 120000;

/* one task_struct per thread id, kept across calls: `current` is the same
 * pointer for every call a thread makes, as in the kernel */
#define TASK_BUCKETS 256
struct task_node {
	struct task_struct ts;
	struct task_node *next;
};
static struct task_node *tasks[TASK_BUCKETS];

static struct task_struct *task_for(struct ptsb_task *t)
{
	struct task_node *n;
	unsigned int b = (unsigned int)t->tid % TASK_BUCKETS;
	for (n = tasks[b]; n; n = n->next)
		if (n->ts.pid == t->tid && n->ts.tgid == t->tgid)
			break;
	if (!n) {
		n = ptsb_os_malloc(sizeof *n);
		__builtin_memset(n, 0, sizeof *n);
		n->ts.pid = t->tid;
		n->ts.tgid = t->tgid;
		n->ts.cred = n->ts.real_cred = &root_cred;
		n->ts.real_parent = n->ts.parent = n->ts.group_leader = &n->ts;
		n->ts.prio = 120;
		n->next = tasks[b];
		tasks[b] = n;
	}
	__builtin_memcpy(n->ts.comm, t->comm, TASK_COMM_LEN);
	n->ts.__ptsb = t;
	return &n->ts;
}

void ptsb_task_setup(struct ptsb_task *t)
{
	t->slot = -1;
	ptsb_sched_lock();
	t->ts = task_for(t);
	t->next_live = live;
	live = t;
	ptsb_sched_unlock();
}

void ptsb_task_teardown(struct ptsb_task *t)
{
	struct ptsb_task **p;
	ptsb_uaccess_release(t);
	ptsb_check_return_to_user(t);
	ptsb_sched_lock();
	for (p = &live; *p; p = &(*p)->next_live)
		if (*p == t) {
			*p = t->next_live;
			break;
		}
	ptsb_sched_unlock();
}

struct task_struct *__ptsb_current(void)
{
	struct ptsb_task *t = ptsb_self();
	return t ? (struct task_struct *)t->ts : &loader_task;
}

static struct ptsb_task *task_of(struct task_struct *ts)
{
	return ts ? (struct ptsb_task *)ts->__ptsb : NULL;
}

/* the supervisor: the caller got a signal (or died) while this call sleeps */
void ptsb_interrupt_call(unsigned int call, int fatal)
{
	struct ptsb_task *t;
	ptsb_sched_lock();
	for (t = live; t; t = t->next_live)
		if (t->call == call) {
			t->sigpending = 1;
			if (fatal)
				t->fatal = 1;
			ptsb_task_signal(t);
		}
	ptsb_sched_unlock();
}

int signal_pending(struct task_struct *ts)
{
	struct ptsb_task *t = task_of(ts);
	return t ? t->sigpending : 0;
}

int fatal_signal_pending(struct task_struct *ts)
{
	struct ptsb_task *t = task_of(ts);
	return t ? t->fatal : 0;
}

void __ptsb_set_current_state(long state)
{
	struct ptsb_task *t = ptsb_self();
	if (t) {
		t->state = state;
		((struct task_struct *)t->ts)->state = state;
		((struct task_struct *)t->ts)->__state = (unsigned int)state;
	}
}

static int wakeable(struct ptsb_task *t)
{
	if (t->woken)
		return 1;
	if ((t->state & TASK_INTERRUPTIBLE) && t->sigpending)
		return 1;
	if ((t->state & TASK_WAKEKILL) && t->fatal)
		return 1;
	return 0;
}

/* sleep in the current state for at most `ms` (< 0: no limit); returns ms left */
static long sleep_now(long ms)
{
	struct ptsb_task *t = ptsb_self();
	long deadline = ms >= 0 ? ptsb_now_ms() + ms : 0;
	if (!t) {
		if (ms > 0)
			ptsb_os_sleep_ms(ms);
		return 0;
	}
	if (t->state == TASK_RUNNING) {
		ptsb_os_yield();
		return ms;
	}
	if (!t->announced) {
		t->announced = 1;
		ptsb_send(MSG_SLEEP, t->call, 0, 0, 0, 0, 0, NULL, 0);
	}
	ptsb_sched_lock();
	if (!(t->state & TASK_INTERRUPTIBLE))
		t->sleep_since = ptsb_now_ms();
	while (!wakeable(t)) {
		long left = ms >= 0 ? deadline - ptsb_now_ms() : -1;
		if (ms >= 0 && left <= 0)
			break;
		ptsb_task_wait(t, left);
	}
	t->woken = 0;
	t->sleep_since = 0;
	t->hung_reported = 0;
	ptsb_sched_unlock();
	__ptsb_set_current_state(TASK_RUNNING);
	if (ms < 0)
		return 0;
	ms = deadline - ptsb_now_ms();
	return ms > 0 ? ms : 0;
}

void schedule(void)
{
	sleep_now(-1);
}

static long ms_of(long j) { return j == MAX_SCHEDULE_TIMEOUT ? -1 : (long)jiffies_to_msecs((unsigned long)j); }

long schedule_timeout(long timeout)
{
	long left;
	if (timeout < 0)
		timeout = 0;
	if (timeout == MAX_SCHEDULE_TIMEOUT) {
		schedule();
		return MAX_SCHEDULE_TIMEOUT;
	}
	left = sleep_now(ms_of(timeout));
	return (long)msecs_to_jiffies((unsigned int)left) + (left > 0 ? 0 : 0);
}

long schedule_timeout_interruptible(long t) { __ptsb_set_current_state(TASK_INTERRUPTIBLE); return schedule_timeout(t); }
long schedule_timeout_uninterruptible(long t) { __ptsb_set_current_state(TASK_UNINTERRUPTIBLE); return schedule_timeout(t); }
long schedule_timeout_killable(long t) { __ptsb_set_current_state(TASK_KILLABLE); return schedule_timeout(t); }
void yield(void) { ptsb_os_yield(); }

int wake_up_process(struct task_struct *ts)
{
	struct ptsb_task *t = task_of(ts);
	if (!t)
		return 0;
	ptsb_sched_lock();
	t->woken = 1;
	ptsb_task_signal(t);
	ptsb_sched_unlock();
	return 1;
}

/* -- wait queues ----------------------------------------------------------- */

void __ptsb_init_waitqueue_head(struct wait_queue_head *wq, const char *name)
{
	__ptsb_spin_init(&wq->lock, name, 0);
	INIT_LIST_HEAD(&wq->head);
}

int default_wake_function(struct wait_queue_entry *e, unsigned mode, int sync, void *key)
{
	struct ptsb_task *t = task_of(e->private);
	(void)sync;
	(void)key;
	if (!t || !(t->state & mode) ) {
		if (t && t->state == TASK_RUNNING) {
			t->woken = 1; /* between prepare and schedule: do not lose it */
			return 1;
		}
		return 0;
	}
	t->woken = 1;
	ptsb_task_signal(t);
	return 1;
}

int autoremove_wake_function(struct wait_queue_entry *e, unsigned mode, int sync, void *key)
{
	int ret = default_wake_function(e, mode, sync, key);
	if (ret)
		list_del_init(&e->entry);
	return ret;
}

void init_wait_entry(struct wait_queue_entry *e, int flags)
{
	e->flags = (unsigned)flags;
	e->private = current;
	e->func = autoremove_wake_function;
	INIT_LIST_HEAD(&e->entry);
}

static void check_wq(struct wait_queue_head *wq)
{
	if (!wq->head.next || !wq->head.prev)
		INIT_LIST_HEAD(&wq->head); /* a zeroed static queue: as the kernel, it is usable */
}

void add_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	ptsb_sched_lock();
	check_wq(wq);
	e->flags &= ~WQ_FLAG_EXCLUSIVE;
	list_add(&e->entry, &wq->head);
	ptsb_sched_unlock();
}

void add_wait_queue_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	ptsb_sched_lock();
	check_wq(wq);
	e->flags |= WQ_FLAG_EXCLUSIVE;
	list_add_tail(&e->entry, &wq->head);
	ptsb_sched_unlock();
}

void remove_wait_queue(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	(void)wq;
	ptsb_sched_lock();
	if (e->entry.next && e->entry.next != &e->entry)
		list_del_init(&e->entry);
	ptsb_sched_unlock();
}

static void queue_up(struct wait_queue_head *wq, struct wait_queue_entry *e, int state, int excl)
{
	struct ptsb_task *t = ptsb_self();
	check_wq(wq);
	if (excl)
		e->flags |= WQ_FLAG_EXCLUSIVE;
	else
		e->flags &= ~WQ_FLAG_EXCLUSIVE;
	if (!e->entry.next || list_empty(&e->entry)) {
		if (excl)
			list_add_tail(&e->entry, &wq->head);
		else
			list_add(&e->entry, &wq->head);
	}
	if (t) {
		t->woken = 0;
		t->state = state;
	}
}

void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *e, int state)
{
	ptsb_sched_lock();
	queue_up(wq, e, state, 0);
	ptsb_sched_unlock();
}

void prepare_to_wait_exclusive(struct wait_queue_head *wq, struct wait_queue_entry *e, int state)
{
	ptsb_sched_lock();
	queue_up(wq, e, state, 1);
	ptsb_sched_unlock();
}

long prepare_to_wait_event(struct wait_queue_head *wq, struct wait_queue_entry *e, int state)
{
	struct ptsb_task *t = ptsb_self();
	long ret = 0;
	ptsb_sched_lock();
	if (t && (((state & TASK_INTERRUPTIBLE) && t->sigpending) ||
		  ((state & TASK_WAKEKILL) && t->fatal))) {
		if (e->entry.next && !list_empty(&e->entry))
			list_del_init(&e->entry);
		ret = -ERESTARTSYS;
	} else {
		queue_up(wq, e, state, !!(e->flags & WQ_FLAG_EXCLUSIVE));
	}
	ptsb_sched_unlock();
	return ret;
}

void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *e)
{
	(void)wq;
	__ptsb_set_current_state(TASK_RUNNING);
	ptsb_sched_lock();
	if (e->entry.next && !list_empty(&e->entry))
		list_del_init(&e->entry);
	ptsb_sched_unlock();
}

int waitqueue_active(struct wait_queue_head *wq)
{
	return wq->head.next && !list_empty(&wq->head);
}

void __wake_up(struct wait_queue_head *wq, unsigned int mode, int nr, void *key)
{
	struct wait_queue_entry *e, *n;
	unsigned long long polls[32];
	int npolls = 0, i;
	ptsb_sched_lock();
	check_wq(wq);
	list_for_each_entry_safe(e, n, &wq->head, entry) {
		if (e->flags & WQ_FLAG_POLL) {
			if (npolls < 32)
				polls[npolls++] = (unsigned long long)(unsigned long)e->private;
			continue;
		}
		if (e->func(e, mode, 0, key) && (e->flags & WQ_FLAG_EXCLUSIVE) && nr > 0 && !--nr)
			break;
	}
	ptsb_sched_unlock();
	for (i = 0; i < npolls; i++)
		ptsb_send(MSG_WAKE, 0, 0, 0, polls[i], 0, 0, NULL, 0);
}

/* -- time ------------------------------------------------------------------ */

#define INITIAL_JIFFIES ((unsigned long)(unsigned int)(-300 * HZ))

unsigned long __ptsb_jiffies(void)
{
	return INITIAL_JIFFIES + (unsigned long)(ptsb_now_ms() - start_ms) * HZ / 1000;
}
unsigned long msecs_to_jiffies(unsigned int m) { return ((unsigned long)m * HZ + 999) / 1000; }
unsigned long usecs_to_jiffies(unsigned int u) { return ((unsigned long)u * HZ + 999999) / 1000000; }
unsigned int jiffies_to_msecs(unsigned long j) { return (unsigned int)(j * 1000 / HZ); }
unsigned int jiffies_to_usecs(unsigned long j) { return (unsigned int)(j * 1000000 / HZ); }

void msleep(unsigned int msecs)
{
	might_sleep();
	__ptsb_set_current_state(TASK_UNINTERRUPTIBLE);
	sleep_now(msecs);
}

unsigned long msleep_interruptible(unsigned int msecs)
{
	might_sleep();
	__ptsb_set_current_state(TASK_INTERRUPTIBLE);
	return (unsigned long)sleep_now(msecs);
}

void ssleep(unsigned int secs) { msleep(secs * 1000); }
void usleep_range(unsigned long min, unsigned long max) { (void)max; msleep((unsigned int)((min + 999) / 1000)); }
void udelay(unsigned long u) { long long end = ptsb_now_ns() + (long long)u * 1000; while (ptsb_now_ns() < end) ; }
void mdelay(unsigned long m) { udelay(m * 1000); }
void ndelay(unsigned long n) { udelay((n + 999) / 1000); }

void get_random_bytes(void *buf, size_t n) { ptsb_os_random(buf, n); }
u32 get_random_u32(void) { u32 v; ptsb_os_random(&v, sizeof v); return v; }

/* -- the hung-task detector: an uninterruptible sleep longer than the timeout */

void ptsb_hung_check(void)
{
	struct ptsb_task *t;
	long now = ptsb_now_ms();
	struct ptsb_task *found = NULL;
	long since = 0;
	ptsb_sched_lock();
	for (t = live; t; t = t->next_live)
		if (t->sleep_since && !t->hung_reported && now - t->sleep_since >= ptsb_hung_timeout_ms) {
			t->hung_reported = 1;
			found = t;
			since = t->sleep_since;
			break;
		}
	ptsb_sched_unlock();
	if (found)
		ptsb_report_hung(found, (now - since) / 1000);
}

void ptsb_sched_init(long hung_ms)
{
	start_ms = ptsb_now_ms();
	ptsb_hung_timeout_ms = hung_ms;
}
