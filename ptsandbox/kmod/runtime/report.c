/* Kernel-style reports: Oops for faults (NULL pointer, user pointer, other
 * addresses, non-canonical), KASAN from AddressSanitizer's findings, BUG(),
 * WARN(), hung tasks. Each goes to the supervisor as one text with pc tokens
 * it symbolizes against the module's binary. */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/stdarg.h>
#include <linux/module.h>

#include "ptsb.h"
#include "rt.h"

/* AddressSanitizer's interface (<sanitizer/asan_interface.h>), weak: the host
 * also works without it */
extern void __asan_set_error_report_callback(void (*cb)(const char *)) __attribute__((weak));
extern void *__asan_get_report_pc(void) __attribute__((weak));
extern void *__asan_get_report_address(void) __attribute__((weak));
extern int __asan_get_report_access_type(void) __attribute__((weak));
extern size_t __asan_get_report_access_size(void) __attribute__((weak));
extern const char *__asan_get_report_description(void) __attribute__((weak));

static char taint[32] = "G           O     ";
static int oops_count;

const char *ptsb_taint(void) { return taint; }

/* positions as in the kernel's print_tainted(): P F S R M B U D A W C I O E L K X T */
void ptsb_add_taint(char flag)
{
	static const char order[] = "PFSRMBUDAWCIOELKXT";
	const char *at = strchr(order, flag);
	if (at) {
		taint[at - order] = flag;
		taint[0] = taint[0] == 'P' ? 'P' : 'G';
	}
}

void add_taint(unsigned int flag, int lockdep_ok) { (void)flag; (void)lockdep_ok; ptsb_add_taint('W'); }

const char *ptsb_comm(void) { return current->comm; }
int ptsb_pid(void) { return current->pid; }

void ptsb_rep_init(struct ptsb_report *r) { r->len = 0; r->buf[0] = 0; }

void ptsb_rep_vprintf(struct ptsb_report *r, const char *fmt, va_list ap)
{
	if (r->len < sizeof r->buf - 1) {
		int n = vsnprintf(r->buf + r->len, sizeof r->buf - r->len, fmt, ap);
		if (n > 0)
			r->len += (size_t)n;
		if (r->len >= sizeof r->buf)
			r->len = sizeof r->buf - 1;
	}
}

void ptsb_rep_printf(struct ptsb_report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ptsb_rep_vprintf(r, fmt, ap);
	va_end(ap);
}

/* first_exact: 1 = pcs[0] is a faulting pc; 0 = all return addresses; -1 = kmemleak style */
void ptsb_rep_frames(struct ptsb_report *r, void *const *pcs, int n, int first_exact)
{
	int i;
	for (i = 0; i < n; i++) {
		unsigned long pc = (unsigned long)pcs[i];
		if (first_exact < 0)
			ptsb_rep_printf(r, "    [<%016lx>] {{ret:%lx}}\n", pc, pc);
		else if (i == 0 && first_exact)
			ptsb_rep_printf(r, " {{pc:%lx}}\n", pc);
		else
			ptsb_rep_printf(r, " {{ret:%lx}}\n", pc);
	}
}

void ptsb_rep_trace(struct ptsb_report *r)
{
	void *pcs[40];
	int n = ptsb_os_backtrace(pcs, 40);
	ptsb_rep_frames(r, pcs, n, 0);
}

void ptsb_rep_cpu_line(struct ptsb_report *r)
{
	ptsb_rep_printf(r, "CPU: 0 PID: %d Comm: %s Tainted: %s 6.1.0-ptsandbox #1\n"
			   "Hardware name: ptsandbox (user-space kernel API)\n", ptsb_pid(), ptsb_comm(), taint);
}

void ptsb_rep_held_locks(struct ptsb_report *r, struct ptsb_task *t)
{
	int i;
	if (!t || !t->nheld) {
		ptsb_rep_printf(r, "no locks held by %s/%d.\n", ptsb_comm(), ptsb_pid());
		return;
	}
	ptsb_rep_printf(r, "%d lock%s held by %s/%d:\n", t->nheld, t->nheld > 1 ? "s" : "", ptsb_comm(), ptsb_pid());
	for (i = 0; i < t->nheld; i++)
		ptsb_rep_printf(r, " #%d: %016lx (%s), at: {{ret:%lx}}\n", i, (unsigned long)t->held[i].lock,
				t->held[i].name ? t->held[i].name : "lock", (unsigned long)t->held[i].site);
}

void ptsb_rep_send(struct ptsb_report *r, int oops)
{
	struct ptsb_task *t = ptsb_self();
	ptsb_send(MSG_REPORT, t ? t->call : 0, 0, 0, 0, (unsigned)oops, 0, r->buf, (unsigned)r->len);
}

/* the end of an Oops: the report goes out, the task is finished */
void ptsb_oops_now(struct ptsb_report *r)
{
	struct ptsb_task *t = ptsb_self();
	ptsb_rep_cpu_line(r);
	ptsb_rep_printf(r, "Call Trace:\n <TASK>\n");
	ptsb_rep_trace(r);
	ptsb_rep_printf(r, " </TASK>\nModules linked in: %s(O)\n---[ end trace 0000000000000000 ]---\n",
			__this_module.name);
	ptsb_add_taint('D');
	ptsb_rep_send(r, 1);
	if (t)
		ptsb_os_oops_escape(t);
	__builtin_trap();
}

static const char *reg_names[18] = { "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R08",
				     "R09", "R10", "R11", "R12", "R13", "R14", "R15", "RIP", "EFLAGS" };

static int canonical(unsigned long p)
{
	unsigned long top = p >> 47;
	return top == 0 || top == 0x1ffff;
}

/* a non-canonical access reports no address: guess it from the registers,
 * preferring a value whose shifted form (an ASan shadow lookup) is also there */
static unsigned long guess_noncanonical(const unsigned long *regs)
{
	int i, j;
	unsigned long first = 0;
	for (i = 0; i < 16; i++) {
		if (canonical(regs[i]))
			continue;
		if (!first)
			first = regs[i];
		for (j = 0; j < 16; j++)
			if (regs[j] == (regs[i] >> 3) || regs[j] == (regs[i] >> 3) + 0x7fff8000UL)
				return regs[i];
	}
	return first;
}

void ptsb_fault_report(struct ptsb_task *t, int sig, int code, unsigned long addr, unsigned long err,
		       const unsigned long *regs, void *const *pcs, int npcs)
{
	struct ptsb_report r;
	unsigned long real;
	int user, i, start = 0;
	const int SI_KERNEL_CODE = 0x80;
	(void)t;
	ptsb_rep_init(&r);
	oops_count++;
	if (sig == 11 && code == SI_KERNEL_CODE) {
		unsigned long a = guess_noncanonical(regs);
		ptsb_rep_printf(&r, "general protection fault, probably for non-canonical address 0x%016lx: 0000 [#%d] PREEMPT SMP KASAN NOPTI\n",
				a, oops_count);
	} else if (sig == 11 || sig == 7) {
		int write = (err & 2) != 0;
		user = ptsb_user_decode(addr, &real, NULL);
		if (user) {
			ptsb_rep_printf(&r, "BUG: unable to handle page fault for address: %016lx\n", real);
			ptsb_rep_printf(&r, "#PF: supervisor %s access in kernel mode\n", write ? "write" : "read");
			ptsb_rep_printf(&r, "#PF: error_code(0x%04lx) - permissions violation\n", (unsigned long)(write ? 3 : 1));
			ptsb_rep_printf(&r, "(SMAP: kernel code dereferenced a user-space pointer; use copy_from_user/copy_to_user)\n");
		} else if (addr < 4096) {
			ptsb_rep_printf(&r, "BUG: kernel NULL pointer dereference, address: %016lx\n", addr);
			ptsb_rep_printf(&r, "#PF: supervisor %s access in kernel mode\n", write ? "write" : "read");
			ptsb_rep_printf(&r, "#PF: error_code(0x%04lx) - not-present page\nPGD 0 P4D 0 \n", (unsigned long)(write ? 2 : 0));
		} else {
			ptsb_rep_printf(&r, "BUG: unable to handle page fault for address: %016lx\n", addr);
			ptsb_rep_printf(&r, "#PF: supervisor %s access in kernel mode\n", write ? "write" : "read");
			ptsb_rep_printf(&r, "#PF: error_code(0x%04lx) - not-present page\n", (unsigned long)(write ? 2 : 0));
		}
		ptsb_rep_printf(&r, "Oops: %04lx [#%d] PREEMPT SMP KASAN NOPTI\n", (unsigned long)(user ? (write ? 3 : 1) : (write ? 2 : 0)), oops_count);
	} else if (sig == 8) {
		ptsb_rep_printf(&r, "divide error: 0000 [#%d] PREEMPT SMP KASAN NOPTI\n", oops_count);
	} else {
		ptsb_rep_printf(&r, "invalid opcode: 0000 [#%d] PREEMPT SMP KASAN NOPTI\n", oops_count);
	}
	ptsb_rep_cpu_line(&r);
	ptsb_rep_printf(&r, "RIP: 0010:{{pc:%lx}}\n", regs[16]);
	ptsb_rep_printf(&r, "RSP: 0018:%016lx EFLAGS: %08lx\n", regs[7], regs[17]);
	for (i = 0; i < 16; i += 3) {
		int k;
		for (k = i; k < i + 3 && k < 16; k++)
			if (k != 7)
				ptsb_rep_printf(&r, "%s: %016lx ", reg_names[k], regs[k]);
		ptsb_rep_printf(&r, "\n");
	}
	ptsb_rep_printf(&r, "Call Trace:\n <TASK>\n");
	/* skip the signal handler's own frames: start at the faulting pc */
	for (i = 0; i < npcs; i++)
		if ((unsigned long)pcs[i] == regs[16]) {
			start = i;
			break;
		}
	if (start)
		ptsb_rep_frames(&r, pcs + start, npcs - start, 1);
	else
		ptsb_rep_frames(&r, pcs, npcs, 0);
	ptsb_rep_printf(&r, " </TASK>\nModules linked in: %s(O)\n", __this_module.name);
	ptsb_rep_printf(&r, "---[ end trace 0000000000000000 ]---\n");
	ptsb_add_taint('D');
	ptsb_rep_send(&r, 1);
}

void ptsb_after_oops(struct ptsb_task *t)
{
	t->nheld = 0; /* its locks stay held; lockdep forgets a dead task */
	ptsb_task_teardown(t);
}

void __ptsb_bug(const char *file, int line)
{
	struct ptsb_report r;
	ptsb_rep_init(&r);
	oops_count++;
	ptsb_rep_printf(&r, "------------[ cut here ]------------\nkernel BUG at %s:%d!\n"
			    "invalid opcode: 0000 [#%d] PREEMPT SMP KASAN NOPTI\n", file, line, oops_count);
	ptsb_oops_now(&r);
}

void __ptsb_warn(const char *file, int line, const char *fmt, ...)
{
	struct ptsb_report r;
	ptsb_add_taint('W');
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "------------[ cut here ]------------\n");
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		ptsb_rep_vprintf(&r, fmt, ap);
		va_end(ap);
		if (r.len && r.buf[r.len - 1] != '\n')
			ptsb_rep_printf(&r, "\n");
	}
	ptsb_rep_printf(&r, "WARNING: CPU: 0 PID: %d at %s:%d {{title}}\nModules linked in: %s(O)\n",
			ptsb_pid(), file, line, __this_module.name);
	ptsb_rep_cpu_line(&r);
	ptsb_rep_printf(&r, "Call Trace:\n <TASK>\n");
	ptsb_rep_trace(&r);
	ptsb_rep_printf(&r, " </TASK>\n---[ end trace 0000000000000000 ]---\n");
	ptsb_rep_send(&r, 0);
}

void dump_stack(void)
{
	struct ptsb_report r;
	ptsb_rep_init(&r);
	ptsb_rep_cpu_line(&r);
	ptsb_rep_printf(&r, "Call Trace:\n <TASK>\n");
	ptsb_rep_trace(&r);
	ptsb_rep_printf(&r, " </TASK>\n");
	ptsb_rep_send(&r, 0);
}

void panic(const char *fmt, ...)
{
	struct ptsb_report r;
	va_list ap;
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "Kernel panic - not syncing: ");
	va_start(ap, fmt);
	ptsb_rep_vprintf(&r, fmt, ap);
	va_end(ap);
	ptsb_rep_printf(&r, "\n");
	ptsb_oops_now(&r);
}

void ptsb_report_hung(struct ptsb_task *t, long secs)
{
	struct ptsb_report r;
	struct task_struct *ts = t->ts;
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "INFO: task %s:%d blocked for more than %ld seconds.\n"
			    "      Tainted: %s 6.1.0-ptsandbox #1\n"
			    "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.\n"
			    "task:%-15s state:D stack:0     pid:%-5d ppid:1      flags:0x00004000\n",
			ts->comm, ts->pid, secs, taint, ts->comm, ts->pid);
	ptsb_rep_send(&r, 0);
}

/* AddressSanitizer found a bad access: say it as KASAN would */
static void asan_report(const char *text)
{
	struct ptsb_report r;
	const char *d = __asan_get_report_description ? __asan_get_report_description() : "unknown-crash";
	unsigned long addr = (unsigned long)__asan_get_report_address();
	int write = __asan_get_report_access_type();
	size_t size = __asan_get_report_access_size();
	const char *kind = "unknown-crash";
	int is_free = 0;
	(void)text;
	if (!strcmp(d, "heap-buffer-overflow"))
		kind = "slab-out-of-bounds";
	else if (!strcmp(d, "heap-use-after-free"))
		kind = "use-after-free";
	else if (!strcmp(d, "stack-buffer-overflow") || !strcmp(d, "stack-buffer-underflow"))
		kind = "stack-out-of-bounds";
	else if (!strcmp(d, "global-buffer-overflow"))
		kind = "global-out-of-bounds";
	else if (!strcmp(d, "stack-use-after-return") || !strcmp(d, "stack-use-after-scope"))
		kind = "use-after-scope";
	ptsb_add_taint('B');
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "==================================================================\n");
	ptsb_rep_printf(&r, "BUG: KASAN: %s in {{title}}\n", kind);
	ptsb_rep_printf(&r, "%s of size %zu at addr %016lx by task %s/%d\n\n", write ? "Write" : "Read", size,
			addr, ptsb_comm(), ptsb_pid());
	ptsb_rep_cpu_line(&r);
	ptsb_rep_printf(&r, "Call Trace:\n <TASK>\n");
	ptsb_rep_trace(&r);
	ptsb_rep_printf(&r, " </TASK>\n");
	ptsb_mem_describe(&r, addr, &is_free);
	ptsb_rep_printf(&r, "==================================================================\n");
	ptsb_rep_send(&r, 0);
}

void ptsb_report_init(void)
{
	if (__asan_set_error_report_callback)
		__asan_set_error_report_callback(asan_report);
}
