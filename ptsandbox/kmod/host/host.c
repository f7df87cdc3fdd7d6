/* The module host: one process per loaded module. It reads requests from the
 * supervisor (fd 3), runs each call on a worker thread of its own - a call
 * that sleeps stays parked on its thread and resumes when woken - and sends
 * back results, printk lines and reports. A fault in module code becomes an
 * Oops report; the faulting call's thread is abandoned (its locks stay held,
 * as in the kernel) and the supervisor kills the caller.
 *
 * Usage: host [--zero-alloc] [--hung-timeout MS]; the params come with OP_LOAD. */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../runtime/ptsb.h"

#define SUPERVISOR_FD 3

/* -- os services for the runtime ----------------------------------------- */

static pthread_mutex_t sched_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t send_mutex = PTHREAD_MUTEX_INITIALIZER;
static __thread struct ptsb_task *self_task;

struct ptsb_task *ptsb_self(void) { return self_task; }
void ptsb_sched_lock(void) { pthread_mutex_lock(&sched_mutex); }
void ptsb_sched_unlock(void) { pthread_mutex_unlock(&sched_mutex); }

_Static_assert(sizeof(pthread_cond_t) <= sizeof(((struct ptsb_task *)0)->cond), "cond");
_Static_assert(sizeof(sigjmp_buf) <= sizeof(((struct ptsb_task *)0)->jmp), "jmp");
_Static_assert(sizeof(pthread_rwlock_t) <= 56, "rwlock");

int ptsb_task_wait(struct ptsb_task *t, long ms)
{
	pthread_cond_t *c = (pthread_cond_t *)t->cond;
	if (ms < 0)
		return pthread_cond_wait(c, &sched_mutex) ? 0 : 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_cond_timedwait(c, &sched_mutex, &ts) == ETIMEDOUT;
}

void ptsb_task_signal(struct ptsb_task *t) { pthread_cond_signal((pthread_cond_t *)t->cond); }

void ptsb_os_mutex_lock(void *impl) { pthread_mutex_lock(impl); }
int ptsb_os_mutex_trylock(void *impl) { return pthread_mutex_trylock(impl) == 0; }
void ptsb_os_mutex_unlock(void *impl) { pthread_mutex_unlock(impl); }
void ptsb_os_rdlock(void *impl) { pthread_rwlock_rdlock(impl); }
void ptsb_os_wrlock(void *impl) { pthread_rwlock_wrlock(impl); }
int ptsb_os_wrtrylock(void *impl) { return pthread_rwlock_trywrlock(impl) == 0; }
void ptsb_os_rwunlock(void *impl) { pthread_rwlock_unlock(impl); }
void *ptsb_os_malloc(unsigned long size) { return malloc(size); }
void ptsb_os_free(void *p) { free(p); }

long ptsb_os_pread(int fd, void *buf, unsigned long n, unsigned long long off)
{
	unsigned long done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (r <= 0)
			break;
		done += (unsigned long)r;
	}
	return (long)done;
}

long ptsb_os_pwrite(int fd, const void *buf, unsigned long n, unsigned long long off)
{
	unsigned long done = 0;
	while (done < n) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));
		if (r <= 0)
			break;
		done += (unsigned long)r;
	}
	return (long)done;
}

long long ptsb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
long ptsb_now_ms(void) { return (long)(ptsb_now_ns() / 1000000LL); }

void ptsb_os_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
void ptsb_os_yield(void) { sched_yield(); }
int ptsb_os_backtrace(void **pcs, int n) { return backtrace(pcs, n); }
void ptsb_os_random(void *buf, unsigned long n)
{
	if (getrandom(buf, n, 0) != (ssize_t)n)
		memset(buf, 0x5a, n);
}

void ptsb_os_reserve(unsigned long base, unsigned long size)
{
	void *p = mmap((void *)base, size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)base) {
		fprintf(stderr, "ptsandbox-kmod-host: cannot reserve the user-pointer window\n");
		exit(70);
	}
}

static void send_locked(struct ptsb_msg *m, const void *payload, unsigned int len)
{
	struct iovec iov[2] = { { m, sizeof *m }, { (void *)payload, len } };
	struct msghdr h = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	while (sendmsg(SUPERVISOR_FD, &h, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

void ptsb_send(unsigned int kind, unsigned int call, long long result, long long pos,
	       unsigned long long file, unsigned int a, unsigned int b, const void *payload,
	       unsigned int len)
{
	struct ptsb_msg m = { kind, call, result, pos, file, a, b, len, 0 };
	pthread_mutex_lock(&send_mutex);
	send_locked(&m, payload, len);
	pthread_mutex_unlock(&send_mutex);
}

/* A call's result, with the module's use count read under the send lock: the
 * supervisor keeps the count of the last message, so a count read before
 * another worker's module_put must never be sent after that worker's own
 * (a release's 0 overtaken by a read's stale 1 made rmmod say EBUSY). */
static void send_done(unsigned int call, long long result, long long pos,
		      unsigned long long file, unsigned int oops)
{
	struct ptsb_msg m = { MSG_DONE, call, result, pos, file, 0, oops, 0, 0 };
	pthread_mutex_lock(&send_mutex);
	m.a = (unsigned)ptsb_module_refcount();
	send_locked(&m, NULL, 0);
	pthread_mutex_unlock(&send_mutex);
}

/* -- workers: one thread per call in flight, reused when idle ------------- */

struct worker {
	pthread_t thread;
	pthread_cond_t cond;
	struct ptsb_task *task; /* the call to run, NULL while idle */
	char *payload;
	struct ptsb_req req;
	struct worker *next_idle;
};

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct worker *idle_workers;
static int unloading;

static void run_call(struct worker *w)
{
	struct ptsb_task *t = w->task;
	long long pos = w->req.pos;
	unsigned long long file = 0;
	long long result;
	self_task = t;
	if (sigsetjmp(*(sigjmp_buf *)t->jmp, 1) == 0) {
		result = ptsb_vfs_call(t, &w->req, w->payload, &pos, &file);
	} else {
		/* an oops: the report is out; the caller dies, this thread is abandoned */
		ptsb_after_oops(t);
		send_done(t->call, -14, pos, 0, 1);
		/* keep this thread (and its stack, which wait queues may still point
		 * into) parked for good, as the kernel leaves a dead task's state */
		for (;;)
			pause();
	}
	ptsb_task_teardown(t);
	self_task = NULL;
	if (t->memfd >= 0)
		close(t->memfd);
	unsigned int op = w->req.op;
	send_done(t->call, result, pos, file, 0);
	pthread_cond_destroy((pthread_cond_t *)t->cond);
	free(t);
	free(w->payload);
	w->payload = NULL;
	if (op == OP_UNLOAD)
		_exit(0);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536 };
	sigaltstack(&ss, NULL);
	for (;;) {
		pthread_mutex_lock(&pool_mutex);
		while (!w->task)
			pthread_cond_wait(&w->cond, &pool_mutex);
		pthread_mutex_unlock(&pool_mutex);
		run_call(w);
		pthread_mutex_lock(&pool_mutex);
		w->task = NULL;
		w->next_idle = idle_workers;
		idle_workers = w;
		pthread_mutex_unlock(&pool_mutex);
	}
	return NULL;
}

static void dispatch(const struct ptsb_req *req, char *payload, int memfd)
{
	struct ptsb_task *t = calloc(1, sizeof *t);
	t->call = req->call;
	t->op = req->op;
	t->tid = req->tid;
	t->tgid = req->tgid;
	memcpy(t->comm, req->comm, sizeof t->comm);
	t->comm[PTSB_COMM_LEN - 1] = 0;
	t->memfd = memfd;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init((pthread_cond_t *)t->cond, &ca);
	ptsb_task_setup(t);
	pthread_mutex_lock(&pool_mutex);
	struct worker *w = idle_workers;
	if (w) {
		idle_workers = w->next_idle;
	} else {
		w = calloc(1, sizeof *w);
		pthread_cond_init(&w->cond, NULL);
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 1 << 20);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&w->thread, &attr, worker_main, w)) {
			fprintf(stderr, "ptsandbox-kmod-host: cannot start a thread\n");
			exit(71);
		}
	}
	w->req = *req;
	w->payload = payload;
	w->task = t;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&pool_mutex);
}

/* -- faults in module code -------------------------------------------------- */

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	struct ptsb_task *t = self_task;
	if (!t || !t->in_module) {
		/* a fault outside module code: the host itself is broken */
		signal(sig, SIG_DFL);
		return;
	}
	t->in_module = 0;
	unsigned long regs[18];
	static const int order[18] = { REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI,
				       REG_RBP, REG_RSP, REG_R8, REG_R9, REG_R10, REG_R11,
				       REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP, REG_EFL };
	for (int i = 0; i < 18; i++)
		regs[i] = (unsigned long)uc->uc_mcontext.gregs[order[i]];
	void *pcs[32];
	int n = backtrace(pcs, 32);
	ptsb_fault_report(t, sig, si->si_code, (unsigned long)si->si_addr,
			  (unsigned long)uc->uc_mcontext.gregs[REG_ERR], regs, pcs, n);
	siglongjmp(*(sigjmp_buf *)t->jmp, 1);
}

void ptsb_os_oops_escape(struct ptsb_task *t)
{
	t->in_module = 0;
	siglongjmp(*(sigjmp_buf *)t->jmp, 1);
}

static void *hung_main(void *arg)
{
	(void)arg;
	for (;;) {
		ptsb_os_sleep_ms(250);
		ptsb_hung_check();
	}
	return NULL;
}

/* -- main loop ------------------------------------------------------------- */

int main(int argc, char **argv)
{
	int zero = 0;
	long hung = 120000;
	/* leave the supervisor's children: its tracer waits for any child (waitpid -1) */
	pid_t child = fork();
	if (child < 0)
		return 72;
	if (child > 0)
		_exit(0);
	setsid();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--zero-alloc"))
			zero = 1;
		else if (!strcmp(argv[i], "--hung-timeout") && i + 1 < argc)
			hung = atol(argv[++i]);
	}
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	void *warm[4];
	backtrace(warm, 4); /* loads the unwinder now, not inside a fault */
	ptsb_runtime_init(zero, hung);
	pthread_t hung_thread;
	if (hung > 0)
		pthread_create(&hung_thread, NULL, hung_main, NULL);

	ptsb_send(MSG_HELLO, 0, getpid(), 0, 0, 0, 0, NULL, 0);
	char *buf = malloc(sizeof(struct ptsb_req) + PTSB_MAX_PAYLOAD);
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { buf, sizeof(struct ptsb_req) + PTSB_MAX_PAYLOAD };
		struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof cbuf };
		ssize_t n = recvmsg(SUPERVISOR_FD, &h, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the supervisor is gone */
		int memfd = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&memfd, CMSG_DATA(c), sizeof memfd);
		if ((size_t)n < sizeof(struct ptsb_req))
			continue;
		struct ptsb_req req;
		memcpy(&req, buf, sizeof req);
		if (req.op == OP_SIGNAL) {
			ptsb_interrupt_call((unsigned)req.a0, (int)req.a1);
			continue;
		}
		char *payload = NULL;
		unsigned len = (unsigned)n - (unsigned)sizeof req;
		if (len > req.len)
			len = req.len;
		payload = calloc(1, len + 1);
		memcpy(payload, buf + sizeof req, len);
		if (req.op == OP_UNLOAD)
			unloading = 1;
		dispatch(&req, payload, memfd);
	}
	return 0;
}
