/* Shared by the kernel-side runtime (compiled against include/, like the
 * module) and the host and os layer (compiled against the C library): the
 * record of each task - one per call in flight - and the services the os
 * layer gives. Builtin C types only, so both sides can include it. */
#ifndef PTSB_PTSB_H
#define PTSB_PTSB_H
#include "../host/protocol.h"

#define PTSB_MAX_HELD 16
#define PTSB_COMM_LEN 16

struct ptsb_held {
	void *lock;
	const char *name;
	void *site;
};

struct ptsb_task {
	void *ts; /* the struct task_struct `current` points at (runtime side) */
	long ts_storage[32];
	unsigned int call;
	unsigned int op;
	int tid, tgid;
	char comm[PTSB_COMM_LEN];
	int memfd; /* the caller's /proc/TID/mem, -1 if none */
	int slot;  /* its user-pointer window (see uaccess.c) */
	int preempt; /* spinlocks held: atomic context when > 0 */
	int irqs_off;
	volatile int sigpending, fatal;
	volatile int woken;
	volatile long state;
	int announced; /* MSG_SLEEP sent for this call */
	long sleep_since; /* ms, while sleeping uninterruptibly; 0 otherwise */
	int hung_reported;
	long cond[8]; /* os layer: a condition variable */
	struct ptsb_held held[PTSB_MAX_HELD];
	int nheld;
	long jmp[64]; /* os layer: the oops escape (sigjmp_buf) */
	volatile int in_module;
	struct ptsb_task *next_live;
};

/* the calling task (NULL on the host's own threads) */
struct ptsb_task *ptsb_self(void);

/* scheduler lock: guards wait queues, sleeping locks and task wake-up state */
void ptsb_sched_lock(void);
void ptsb_sched_unlock(void);
/* sleep on the task's condition until woken (ms < 0: no timeout); 0, or 1 on timeout */
int ptsb_task_wait(struct ptsb_task *t, long ms);
void ptsb_task_signal(struct ptsb_task *t);

/* host mutexes and rwlocks in caller-provided zeroed storage (>= 56 bytes) */
void ptsb_os_mutex_lock(void *impl);
int ptsb_os_mutex_trylock(void *impl);
void ptsb_os_mutex_unlock(void *impl);
void ptsb_os_rdlock(void *impl);
void ptsb_os_wrlock(void *impl);
int ptsb_os_wrtrylock(void *impl);
void ptsb_os_rwunlock(void *impl);

void *ptsb_os_malloc(unsigned long size);
void ptsb_os_free(void *p);
long ptsb_os_pread(int fd, void *buf, unsigned long n, unsigned long long off);
long ptsb_os_pwrite(int fd, const void *buf, unsigned long n, unsigned long long off);
long ptsb_now_ms(void);
long long ptsb_now_ns(void);
void ptsb_os_sleep_ms(long ms);
void ptsb_os_yield(void);
int ptsb_os_backtrace(void **pcs, int n);
void ptsb_os_random(void *buf, unsigned long n);
void ptsb_os_reserve(unsigned long base, unsigned long size);
/* one record to the supervisor (thread-safe) */
void ptsb_send(unsigned int kind, unsigned int call, long long result, long long pos,
	       unsigned long long file, unsigned int a, unsigned int b, const void *payload,
	       unsigned int len);
__attribute__((noreturn)) void ptsb_os_oops_escape(struct ptsb_task *t);

/* runtime services the host calls */
void ptsb_runtime_init(int zero_alloc, long hung_timeout_ms);
long long ptsb_vfs_call(struct ptsb_task *t, const struct ptsb_req *req, const char *payload,
			long long *pos, unsigned long long *file_out);
void ptsb_task_setup(struct ptsb_task *t);
void ptsb_task_teardown(struct ptsb_task *t);
void ptsb_after_oops(struct ptsb_task *t);
void ptsb_fault_report(struct ptsb_task *t, int sig, int code, unsigned long addr,
		       unsigned long err, const unsigned long *regs, void *const *pcs, int npcs);
void ptsb_hung_check(void);
int ptsb_module_refcount(void);
void ptsb_interrupt_call(unsigned int call, int fatal);
#endif
