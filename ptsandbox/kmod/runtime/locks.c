/* Locks, with the checks a debug kernel makes: lockdep's recursive locking and
 * bad unlock balance, DEBUG_SPINLOCK's bad magic, and might_sleep()'s
 * "sleeping function called from invalid context". Spinlocks block on a host
 * mutex; sleeping locks (mutex, rwsem, semaphore) sleep like wait_event, so the
 * supervisor sees the call parked. */
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/semaphore.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include "ptsb.h"
#include "rt.h"

static const char *lock_name(const char *name) { return name ? name : "lock"; }

static void hold(struct ptsb_task *t, void *lock, const char *name, void *site)
{
	if (t && t->nheld < PTSB_MAX_HELD) {
		t->held[t->nheld].lock = lock;
		t->held[t->nheld].name = name;
		t->held[t->nheld].site = site;
		t->nheld++;
	}
}

static struct ptsb_held *held_by(struct ptsb_task *t, void *lock)
{
	int i;
	if (!t)
		return NULL;
	for (i = t->nheld - 1; i >= 0; i--)
		if (t->held[i].lock == lock)
			return &t->held[i];
	return NULL;
}

static void unhold(struct ptsb_task *t, void *lock)
{
	int i;
	if (!t)
		return;
	for (i = t->nheld - 1; i >= 0; i--)
		if (t->held[i].lock == lock) {
			for (; i < t->nheld - 1; i++)
				t->held[i] = t->held[i + 1];
			t->nheld--;
			return;
		}
}

static void banner(struct ptsb_report *r, const char *title)
{
	size_t i, n = __builtin_strlen(title);
	char line[128];
	for (i = 0; i < n && i < sizeof line - 1; i++)
		line[i] = '=';
	line[i] = 0;
	ptsb_rep_printf(r, "\n%s\n%s\n6.1.0-ptsandbox #1 Tainted: %s\n", line, title, ptsb_taint());
	for (i = 0; i < n && i < sizeof line - 1; i++)
		line[i] = '-';
	ptsb_rep_printf(r, "%s\n", line);
}

static void report_recursive(void *lock, const char *name, void *site, struct ptsb_held *h)
{
	struct ptsb_report r;
	ptsb_add_taint('W');
	ptsb_rep_init(&r);
	banner(&r, "WARNING: possible recursive locking detected");
	ptsb_rep_printf(&r, "%s/%d is trying to acquire lock:\n", ptsb_comm(), ptsb_pid());
	ptsb_rep_printf(&r, "%016lx (%s), at: {{ret:%lx}}\n\n", (unsigned long)lock, lock_name(name), (unsigned long)site);
	ptsb_rep_printf(&r, "but task is already holding lock:\n");
	ptsb_rep_printf(&r, "%016lx (%s), at: {{ret:%lx}}\n\n", (unsigned long)lock, lock_name(name), (unsigned long)h->site);
	ptsb_rep_printf(&r, "other info that might help us debug this:\n Possible unsafe locking scenario:\n\n"
			    "       CPU0\n       ----\n  lock(%s);\n  lock(%s);\n\n *** DEADLOCK ***\n\n"
			    " May be due to missing lock nesting notation\n\n",
			lock_name(name), lock_name(name));
	ptsb_rep_held_locks(&r, ptsb_self());
	ptsb_rep_printf(&r, "\nstack backtrace:\n");
	ptsb_rep_cpu_line(&r);
	ptsb_rep_trace(&r);
	ptsb_rep_send(&r, 0);
}

static void report_bad_unlock(void *lock, const char *name, void *site)
{
	struct ptsb_report r;
	ptsb_add_taint('W');
	ptsb_rep_init(&r);
	banner(&r, "WARNING: bad unlock balance detected!");
	ptsb_rep_printf(&r, "%s/%d is trying to release lock (%s) at:\n{{ret:%lx}}\n"
			    "but there are no more locks to release!\n\nother info that might help us debug this:\n",
			ptsb_comm(), ptsb_pid(), lock_name(name), (unsigned long)site);
	ptsb_rep_held_locks(&r, ptsb_self());
	ptsb_rep_printf(&r, "\nstack backtrace:\n");
	ptsb_rep_cpu_line(&r);
	ptsb_rep_trace(&r);
	ptsb_rep_send(&r, 0);
}

static void report_lock_bug(const char *what, void *lock, const char *name)
{
	struct ptsb_report r;
	ptsb_add_taint('W');
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "BUG: %s on CPU#0, %s/%d\n lock: %s+0x0/0x0, .magic: %08x, .owner: <none>/-1, .owner_cpu: -1\n",
			what, ptsb_comm(), ptsb_pid(), lock_name(name), ((spinlock_t *)lock)->magic);
	ptsb_rep_cpu_line(&r);
	ptsb_rep_trace(&r);
	ptsb_rep_send(&r, 0);
}

static void report_mutex_warn(const char *cond, const char *file, int line)
{
	struct ptsb_report r;
	ptsb_add_taint('W');
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "------------[ cut here ]------------\nDEBUG_LOCKS_WARN_ON(%s)\n"
			    "WARNING: CPU: 0 PID: %d at %s:%d\n", cond, ptsb_pid(), file, line);
	ptsb_rep_cpu_line(&r);
	ptsb_rep_trace(&r);
	ptsb_rep_printf(&r, "---[ end trace 0000000000000000 ]---\n");
	ptsb_rep_send(&r, 0);
}

/* -- atomic context and might_sleep --------------------------------------- */

void preempt_disable(void) { struct ptsb_task *t = ptsb_self(); if (t) t->preempt++; }
void preempt_enable(void) { struct ptsb_task *t = ptsb_self(); if (t && t->preempt > 0) t->preempt--; }
void __ptsb_irq_save(void) { struct ptsb_task *t = ptsb_self(); if (t) t->irqs_off++; }
void __ptsb_irq_restore(void) { struct ptsb_task *t = ptsb_self(); if (t && t->irqs_off > 0) t->irqs_off--; }
int in_atomic(void) { struct ptsb_task *t = ptsb_self(); return t ? (t->preempt > 0 || t->irqs_off > 0) : 0; }

#define MAX_SITES 64
static void *reported_sites[MAX_SITES];
static int nreported;

void __ptsb_might_sleep(const char *file, int line, void *site)
{
	struct ptsb_task *t = ptsb_self();
	struct ptsb_report r;
	int i;
	if (!t || (t->preempt <= 0 && t->irqs_off <= 0))
		return;
	/* the kernel rate-limits this report; once per call site is as useful */
	ptsb_sched_lock();
	for (i = 0; i < nreported; i++)
		if (reported_sites[i] == site) {
			ptsb_sched_unlock();
			return;
		}
	if (nreported < MAX_SITES)
		reported_sites[nreported++] = site;
	ptsb_sched_unlock();
	ptsb_add_taint('W');
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "BUG: sleeping function called from invalid context at %s:%d\n", file, line);
	ptsb_rep_printf(&r, "in_atomic(): %d, irqs_disabled(): %d, non_block: 0, pid: %d, name: %s\n",
			t->preempt > 0, t->irqs_off > 0, ptsb_pid(), ptsb_comm());
	ptsb_rep_printf(&r, "preempt_count: %x, expected: 0\nRCU nest depth: 0, expected: 0\n", t->preempt);
	ptsb_rep_held_locks(&r, t);
	if (t->irqs_off)
		ptsb_rep_printf(&r, "irq event stamp: 0\nhardirqs last disabled at: {{ret:%lx}}\n",
				(unsigned long)(t->nheld ? t->held[t->nheld - 1].site : site));
	ptsb_rep_cpu_line(&r);
	ptsb_rep_trace(&r);
	ptsb_rep_send(&r, 0);
}

/* might_sleep from the runtime itself: the site is the module's call */
#define RT_MIGHT_SLEEP(site) __ptsb_might_sleep(__FILE__, __LINE__, (site))

/* -- spinlocks and rwlocks ---------------------------------------------- */

void __ptsb_spin_init(spinlock_t *l, const char *name, unsigned int kind)
{
	__builtin_memset(l, 0, sizeof *l);
	l->magic = SPINLOCK_MAGIC;
	l->kind = kind;
	l->name = name;
}

static void check_magic(spinlock_t *l)
{
	if (l->magic != SPINLOCK_MAGIC) {
		report_lock_bug("spinlock bad magic", l, NULL);
		__ptsb_spin_init(l, "(uninitialized)", l->kind == 1);
	}
}

void __ptsb_spin_lock(spinlock_t *l, void *site)
{
	struct ptsb_task *t = ptsb_self();
	struct ptsb_held *h;
	check_magic(l);
	h = held_by(t, l);
	if (h)
		report_recursive(l, l->name, site, h); /* then deadlocks, as in the kernel */
	if (t)
		t->preempt++;
	if (l->kind == 1)
		ptsb_os_wrlock(l->__impl);
	else
		ptsb_os_mutex_lock(l->__impl);
	l->owner = t ? t->ts : (void *)1;
	l->site = site;
	hold(t, l, l->name, site);
}

int __ptsb_spin_trylock(spinlock_t *l, void *site)
{
	struct ptsb_task *t = ptsb_self();
	int ok;
	check_magic(l);
	ok = l->kind == 1 ? ptsb_os_wrtrylock(l->__impl) : ptsb_os_mutex_trylock(l->__impl);
	if (!ok)
		return 0;
	if (t)
		t->preempt++;
	l->owner = t ? t->ts : (void *)1;
	l->site = site;
	hold(t, l, l->name, site);
	return 1;
}

void __ptsb_spin_unlock(spinlock_t *l, void *site)
{
	struct ptsb_task *t = ptsb_self();
	check_magic(l);
	if (!l->owner) {
		report_bad_unlock(l, l->name, site);
		return;
	}
	unhold(t, l);
	l->owner = NULL;
	if (l->kind == 1)
		ptsb_os_rwunlock(l->__impl);
	else
		ptsb_os_mutex_unlock(l->__impl);
	if (t && t->preempt > 0)
		t->preempt--;
}

void __ptsb_read_lock(spinlock_t *l, void *site)
{
	struct ptsb_task *t = ptsb_self();
	check_magic(l);
	if (t)
		t->preempt++;
	ptsb_os_rdlock(l->__impl);
	hold(t, l, l->name, site);
}

void __ptsb_read_unlock(spinlock_t *l, void *site)
{
	struct ptsb_task *t = ptsb_self();
	(void)site;
	unhold(t, l);
	ptsb_os_rwunlock(l->__impl);
	if (t && t->preempt > 0)
		t->preempt--;
}

int __ptsb_spin_is_locked(spinlock_t *l) { return l->owner != NULL; }

/* -- sleeping locks: a waiter sleeps until the holder releases ------------ */

static DECLARE_WAIT_QUEUE_HEAD(sleeping_locks); /* one queue: wakes re-check their lock */

#define SLEEP_UNTIL(cond, state, intr_ret) ({ \
	int __r = 0; \
	if (!(cond)) \
		__r = (int)___ptsb_wait_event(sleeping_locks, (cond), state, 0, 0, schedule()); \
	__r; })

static void check_mutex(struct mutex *m, const char *file, int line)
{
	if (m->magic != m) {
		report_mutex_warn("lock->magic != lock", file, line);
		__ptsb_mutex_init(m, "(uninitialized)");
	}
}

void __ptsb_mutex_init(struct mutex *m, const char *name)
{
	m->magic = m;
	m->owner = NULL;
	m->name = name;
	m->site = NULL;
	INIT_LIST_HEAD(&m->wait_list);
}

static int mutex_try(struct mutex *m, void *owner)
{
	int ok;
	ptsb_sched_lock();
	ok = m->owner == NULL;
	if (ok)
		m->owner = owner;
	ptsb_sched_unlock();
	return ok;
}

static int mutex_lock_common(struct mutex *m, void *site, int state)
{
	struct ptsb_task *t = ptsb_self();
	struct ptsb_held *h;
	void *me = current;
	int ret;
	check_mutex(m, __FILE__, __LINE__);
	RT_MIGHT_SLEEP(site);
	h = held_by(t, m);
	if (h)
		report_recursive(m, m->name, site, h);
	ret = SLEEP_UNTIL(mutex_try(m, me), state, -EINTR);
	if (ret)
		return -EINTR;
	m->site = site;
	hold(t, m, m->name, site);
	return 0;
}

void __ptsb_mutex_lock(struct mutex *m, void *site) { mutex_lock_common(m, site, TASK_UNINTERRUPTIBLE); }
int __ptsb_mutex_lock_interruptible(struct mutex *m, void *site) { return mutex_lock_common(m, site, TASK_INTERRUPTIBLE); }

int __ptsb_mutex_trylock(struct mutex *m, void *site)
{
	check_mutex(m, __FILE__, __LINE__);
	if (!mutex_try(m, current))
		return 0;
	m->site = site;
	hold(ptsb_self(), m, m->name, site);
	return 1;
}

void __ptsb_mutex_unlock(struct mutex *m, void *site)
{
	check_mutex(m, __FILE__, __LINE__);
	if (!m->owner) {
		report_bad_unlock(m, m->name, site);
		return;
	}
	if (m->owner != (void *)current)
		report_mutex_warn("__owner_task(owner) != current", __FILE__, __LINE__);
	unhold(ptsb_self(), m);
	ptsb_sched_lock();
	m->owner = NULL;
	ptsb_sched_unlock();
	wake_up_all(&sleeping_locks);
}

int mutex_is_locked(struct mutex *m) { return m->owner != NULL; }
void mutex_destroy(struct mutex *m) { (void)m; }

/* rw semaphores */
void __ptsb_init_rwsem(struct rw_semaphore *s, const char *name)
{
	s->magic = s;
	s->count = 0;
	s->owner = NULL;
	s->name = name;
	INIT_LIST_HEAD(&s->wait_list);
}

static void check_rwsem(struct rw_semaphore *s)
{
	if (s->magic != s) {
		report_mutex_warn("sem->magic != sem", __FILE__, __LINE__);
		__ptsb_init_rwsem(s, "(uninitialized)");
	}
}

static int rwsem_try(struct rw_semaphore *s, int write)
{
	int ok;
	ptsb_sched_lock();
	ok = write ? s->count == 0 : s->count >= 0;
	if (ok)
		s->count = write ? -1 : s->count + 1;
	ptsb_sched_unlock();
	return ok;
}

void __ptsb_down_read(struct rw_semaphore *s, void *site)
{
	check_rwsem(s);
	RT_MIGHT_SLEEP(site);
	SLEEP_UNTIL(rwsem_try(s, 0), TASK_UNINTERRUPTIBLE, 0);
	hold(ptsb_self(), s, s->name, site);
}

void __ptsb_down_write(struct rw_semaphore *s, void *site)
{
	struct ptsb_held *h;
	check_rwsem(s);
	RT_MIGHT_SLEEP(site);
	h = held_by(ptsb_self(), s);
	if (h)
		report_recursive(s, s->name, site, h);
	SLEEP_UNTIL(rwsem_try(s, 1), TASK_UNINTERRUPTIBLE, 0);
	s->owner = current;
	hold(ptsb_self(), s, s->name, site);
}

int down_read_trylock(struct rw_semaphore *s) { check_rwsem(s); return rwsem_try(s, 0); }
int down_write_trylock(struct rw_semaphore *s) { check_rwsem(s); return rwsem_try(s, 1); }

static void up_common(struct rw_semaphore *s, void *site, int write)
{
	int bad;
	check_rwsem(s);
	ptsb_sched_lock();
	bad = write ? s->count != -1 : s->count <= 0;
	if (!bad)
		s->count = write ? 0 : s->count - 1;
	ptsb_sched_unlock();
	if (bad) {
		report_bad_unlock(s, s->name, site);
		return;
	}
	unhold(ptsb_self(), s);
	s->owner = NULL;
	wake_up_all(&sleeping_locks);
}

void __ptsb_up_read(struct rw_semaphore *s, void *site) { up_common(s, site, 0); }
void __ptsb_up_write(struct rw_semaphore *s, void *site) { up_common(s, site, 1); }

void downgrade_write(struct rw_semaphore *s)
{
	ptsb_sched_lock();
	if (s->count == -1)
		s->count = 1;
	ptsb_sched_unlock();
	wake_up_all(&sleeping_locks);
}

/* counting semaphores */
void sema_init(struct semaphore *s, int val)
{
	s->magic = s;
	s->count = val;
	s->name = "semaphore";
	INIT_LIST_HEAD(&s->wait_list);
}

static int sem_try(struct semaphore *s)
{
	int ok;
	ptsb_sched_lock();
	ok = s->count > 0;
	if (ok)
		s->count--;
	ptsb_sched_unlock();
	return ok;
}

void down(struct semaphore *s)
{
	RT_MIGHT_SLEEP(__builtin_return_address(0));
	SLEEP_UNTIL(sem_try(s), TASK_UNINTERRUPTIBLE, 0);
}

int down_interruptible(struct semaphore *s)
{
	RT_MIGHT_SLEEP(__builtin_return_address(0));
	return SLEEP_UNTIL(sem_try(s), TASK_INTERRUPTIBLE, -EINTR) ? -EINTR : 0;
}

int down_killable(struct semaphore *s)
{
	RT_MIGHT_SLEEP(__builtin_return_address(0));
	return SLEEP_UNTIL(sem_try(s), TASK_KILLABLE, -EINTR) ? -EINTR : 0;
}

int down_trylock(struct semaphore *s) { return !sem_try(s); }

int down_timeout(struct semaphore *s, long j)
{
	long left = j;
	RT_MIGHT_SLEEP(__builtin_return_address(0));
	while (!sem_try(s)) {
		if (left <= 0)
			return -ETIME;
		left = wait_event_timeout(sleeping_locks, s->count > 0, left);
	}
	return 0;
}

void up(struct semaphore *s)
{
	ptsb_sched_lock();
	s->count++;
	ptsb_sched_unlock();
	wake_up_all(&sleeping_locks);
}

/* a lock still held when the call returns to user space (lockdep's warning) */
void ptsb_check_return_to_user(struct ptsb_task *t)
{
	struct ptsb_report r;
	if (!t->nheld)
		return;
	ptsb_add_taint('W');
	ptsb_rep_init(&r);
	banner(&r, "WARNING: lock held when returning to user space!");
	ptsb_rep_printf(&r, "%s/%d is leaving the kernel with locks still held!\n", ptsb_comm(), ptsb_pid());
	ptsb_rep_held_locks(&r, t);
	ptsb_rep_send(&r, 0);
	t->nheld = 0;
}
