/* current: the calling thread (pid = its thread id, tgid = its process id, comm). */
#ifndef _PTSB_LINUX_SCHED_H
#define _PTSB_LINUX_SCHED_H
#include <linux/types.h>
#include <linux/list.h>
#include <linux/jiffies.h>

#define TASK_COMM_LEN 16
#define TASK_RUNNING 0x0000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_WAKEKILL 0x0100
#define TASK_KILLABLE (TASK_WAKEKILL | TASK_UNINTERRUPTIBLE)
#define TASK_NORMAL (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)
#define MAX_SCHEDULE_TIMEOUT LONG_MAX

typedef struct { uid_t val; } kuid_t;
typedef struct { gid_t val; } kgid_t;
struct cred {
	kuid_t uid, euid, suid, fsuid;
	kgid_t gid, egid, sgid, fsgid;
};

struct task_struct {
	volatile long state;
	unsigned int __state;
	pid_t pid;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	const struct cred *cred;
	const struct cred *real_cred;
	struct task_struct *real_parent, *parent, *group_leader;
	int prio;
	unsigned int flags;
	void *__ptsb; /* the runtime's own record of this task */
};

struct task_struct *__ptsb_current(void);
#define current __ptsb_current()
#define get_current() __ptsb_current()

static inline pid_t task_pid_nr(struct task_struct *t) { return t->pid; }
static inline pid_t task_tgid_nr(struct task_struct *t) { return t->tgid; }
static inline pid_t task_pid_vnr(struct task_struct *t) { return t->pid; }
static inline pid_t task_tgid_vnr(struct task_struct *t) { return t->tgid; }
#define task_pid(t) ((t)->pid)
#define pid_nr(p) (p)
#define get_task_comm(buf, t) __builtin_strncpy((buf), (t)->comm, TASK_COMM_LEN)
#define current_uid() (current->cred->uid)
#define current_euid() (current->cred->euid)
#define current_gid() (current->cred->gid)
#define current_cred() (current->cred)
#define __kuid_val(k) ((k).val)
#define __kgid_val(k) ((k).val)
#define uid_eq(a, b) ((a).val == (b).val)
#define GLOBAL_ROOT_UID ((kuid_t){ 0 })

void __ptsb_set_current_state(long state);
#define set_current_state(s) __ptsb_set_current_state(s)
#define __set_current_state(s) __ptsb_set_current_state(s)
void schedule(void);
long schedule_timeout(long timeout);
long schedule_timeout_interruptible(long timeout);
long schedule_timeout_uninterruptible(long timeout);
long schedule_timeout_killable(long timeout);
void yield(void);
int signal_pending(struct task_struct *t);
int fatal_signal_pending(struct task_struct *t);
int wake_up_process(struct task_struct *t);
#define in_interrupt() 0
#define in_irq() 0
#define in_softirq() 0
#define in_task() 1
int in_atomic(void);
#define irqs_disabled() (in_atomic() < 0)
#endif
