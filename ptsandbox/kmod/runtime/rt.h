/* Runtime-internal declarations (kernel side). */
#ifndef PTSB_RT_H
#define PTSB_RT_H
#include <linux/types.h>
#include <linux/stdarg.h>
#include <linux/fs.h>
#include <linux/spinlock.h>
#include "ptsb.h"

/* reports: text with {{pc:HEX}} (a faulting pc) and {{ret:HEX}} (a return
 * address) that the supervisor turns into "func+0x1c/0x80 (file.c:12) [module]" */
struct ptsb_report {
	char buf[16384];
	size_t len;
};
void ptsb_rep_init(struct ptsb_report *r);
void ptsb_rep_printf(struct ptsb_report *r, const char *fmt, ...) __printf(2, 3);
void ptsb_rep_vprintf(struct ptsb_report *r, const char *fmt, va_list ap);
void ptsb_rep_trace(struct ptsb_report *r);
void ptsb_rep_frames(struct ptsb_report *r, void *const *pcs, int n, int first_exact);
void ptsb_rep_cpu_line(struct ptsb_report *r);
void ptsb_rep_held_locks(struct ptsb_report *r, struct ptsb_task *t);
void ptsb_rep_send(struct ptsb_report *r, int oops);
const char *ptsb_taint(void);
void ptsb_add_taint(char flag);
const char *ptsb_comm(void);
int ptsb_pid(void);
void ptsb_report_hung(struct ptsb_task *t, long secs);
void ptsb_check_return_to_user(struct ptsb_task *t);
__attribute__((noreturn)) void ptsb_oops_now(struct ptsb_report *r);

void ptsb_sched_init(long hung_ms);
void ptsb_report_init(void);
void ptsb_mem_init(int zero);
void ptsb_uaccess_init(void);
void ptsb_uaccess_release(struct ptsb_task *t);
int ptsb_user_decode(unsigned long enc, unsigned long *real, int *encoded);
unsigned long ptsb_user_encode(struct ptsb_task *t, unsigned long real, int probe);
int ptsb_mem_describe(struct ptsb_report *r, unsigned long addr, int *found_free);
void ptsb_kmemleak_scan(void);
void ptsb_module_ref(int delta);
const struct file_operations *ptsb_find_fops(unsigned major, unsigned minor, void **misc);
void ptsb_file_drop_polls(struct file *f);
void ptsb_printk_line(int level, const char *text);
#endif
