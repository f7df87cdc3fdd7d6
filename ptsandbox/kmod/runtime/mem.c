/* kmalloc and friends over the host's (AddressSanitizer) heap, with the
 * bookkeeping a debug kernel keeps: who allocated and freed each object (for
 * KASAN-style reports), double and invalid frees (reported, the free skipped,
 * as KASAN does), slub_debug-style poisoning of new objects (0x6b..., 0xa5
 * last; zeroed instead with --zero-alloc, like init_on_alloc=1), and a
 * kmemleak scan at unload (LeakSanitizer cannot run under ptrace). */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/string.h>
#include <linux/err.h>
#include <linux/uaccess.h>
#include <linux/sched.h>

#include "ptsb.h"
#include "rt.h"

#define NFRAMES 12
#define BUCKETS 65536
#define FREED_RING 8192

struct alloc {
	unsigned long ptr;
	size_t size;
	void *frames[NFRAMES];
	int nframes;
	int pid;
	char comm[TASK_COMM_LEN];
	unsigned long when;
	void *free_frames[NFRAMES];
	int nfree_frames;
	int free_pid;
	struct alloc *next;
};

static struct alloc *live[BUCKETS];
static struct alloc *freed[FREED_RING];
static unsigned int freed_next;
static long table_lock[8];
static int zero_alloc;
static long nlive;

void ptsb_mem_init(int zero) { zero_alloc = zero; }

static unsigned int bucket(unsigned long p) { return (unsigned int)((p >> 4) * 2654435761u) % BUCKETS; }

static void capture(void **frames, int *n, int *pid, char *comm)
{
	void *pcs[NFRAMES + 2];
	int got = ptsb_os_backtrace(pcs, NFRAMES + 2), i;
	/* drop this helper and the allocator's own frame */
	*n = 0;
	for (i = 2; i < got && *n < NFRAMES; i++)
		frames[(*n)++] = pcs[i];
	if (pid)
		*pid = ptsb_pid();
	if (comm)
		__builtin_strncpy(comm, ptsb_comm(), TASK_COMM_LEN);
}

static void *alloc_tracked(size_t size, gfp_t flags, void *site)
{
	struct alloc *a;
	unsigned char *p;
	if (gfpflags_allow_blocking(flags))
		__ptsb_might_sleep("mm/slab.h", 710, site);
	if (!size)
		return ZERO_SIZE_PTR;
	if (size > KMALLOC_MAX_SIZE) {
		if (!(flags & __GFP_NOWARN))
			__ptsb_warn("mm/page_alloc.c", 5534, NULL);
		return NULL;
	}
	p = ptsb_os_malloc(size);
	if (!p)
		return NULL;
	if ((flags & __GFP_ZERO) || zero_alloc) {
		memset(p, 0, size);
	} else {
		memset(p, 0x6b, size);
		p[size - 1] = 0xa5;
	}
	a = ptsb_os_malloc(sizeof *a);
	memset(a, 0, sizeof *a);
	a->ptr = (unsigned long)p;
	a->size = size;
	a->when = jiffies;
	capture(a->frames, &a->nframes, &a->pid, a->comm);
	ptsb_os_mutex_lock(table_lock);
	a->next = live[bucket(a->ptr)];
	live[bucket(a->ptr)] = a;
	nlive++;
	ptsb_os_mutex_unlock(table_lock);
	return p;
}

static struct alloc *unlink_live(unsigned long p)
{
	struct alloc **pp, *a;
	for (pp = &live[bucket(p)]; (a = *pp); pp = &a->next)
		if (a->ptr == p) {
			*pp = a->next;
			nlive--;
			return a;
		}
	return NULL;
}

static struct alloc *find_freed(unsigned long p, int inside)
{
	unsigned int i;
	for (i = 0; i < FREED_RING; i++) {
		struct alloc *a = freed[(freed_next - 1 - i) % FREED_RING];
		if (!a)
			break;
		if (a->ptr == p || (inside && p >= a->ptr && p < a->ptr + a->size + 64))
			return a;
	}
	return NULL;
}

static struct alloc *find_live_containing(unsigned long p)
{
	unsigned int b;
	struct alloc *a, *best = NULL;
	for (b = 0; b < BUCKETS; b++)
		for (a = live[b]; a; a = a->next)
			if (p >= a->ptr && p < a->ptr + a->size + 64 &&
			    (!best || a->ptr > best->ptr))
				best = a;
	return best;
}

static const char *cache_of(size_t size, size_t *cache)
{
	static const size_t sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192 };
	static char name[32];
	unsigned int i;
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if (size <= sizes[i]) {
			*cache = sizes[i];
			snprintf(name, sizeof name, "kmalloc-%zu", sizes[i] >= 1024 ? sizes[i] : sizes[i]);
			if (sizes[i] >= 1024)
				snprintf(name, sizeof name, "kmalloc-%zuk", sizes[i] / 1024);
			return name;
		}
	*cache = size;
	return "kmalloc-large";
}

static void rep_stack(struct ptsb_report *r, const char *what, int pid, void *const *frames, int n)
{
	ptsb_rep_printf(r, "\n%s by task %d:\n", what, pid);
	ptsb_rep_frames(r, frames, n, 0);
}

/* the "Allocated by / Freed by / belongs to the object" part of a KASAN report */
int ptsb_mem_describe(struct ptsb_report *r, unsigned long addr, int *is_free)
{
	struct alloc *a;
	size_t cache;
	const char *cname;
	ptsb_os_mutex_lock(table_lock);
	a = find_live_containing(addr);
	*is_free = 0;
	if (!a) {
		a = find_freed(addr, 1);
		*is_free = a != NULL;
	}
	if (!a) {
		ptsb_os_mutex_unlock(table_lock);
		return 0;
	}
	rep_stack(r, "Allocated", a->pid, a->frames, a->nframes);
	if (*is_free)
		rep_stack(r, "Freed", a->free_pid, a->free_frames, a->nfree_frames);
	cname = cache_of(a->size, &cache);
	ptsb_rep_printf(r, "\nThe buggy address belongs to the object at %016lx\n which belongs to the cache %s of size %zu\n",
			a->ptr, cname, cache);
	if (addr >= a->ptr + a->size)
		ptsb_rep_printf(r, "The buggy address is located %lu bytes to the right of\n %zu-byte region [%016lx, %016lx)\n",
				addr - (a->ptr + a->size), a->size, a->ptr, a->ptr + a->size);
	else
		ptsb_rep_printf(r, "The buggy address is located %lu bytes inside of\n %zu-byte region [%016lx, %016lx)\n",
				addr - a->ptr, a->size, a->ptr, a->ptr + a->size);
	ptsb_os_mutex_unlock(table_lock);
	return 1;
}

static int canonical(unsigned long p)
{
	unsigned long top = p >> 47;
	return top == 0 || top == 0x1ffff;
}

static void report_bad_free(const char *kind, unsigned long p, struct alloc *prev, void *site)
{
	struct ptsb_report r;
	(void)site;
	ptsb_add_taint('B');
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "==================================================================\n");
	ptsb_rep_printf(&r, "BUG: KASAN: %s in {{title}}\n", kind);
	ptsb_rep_printf(&r, "Free of addr %016lx by task %s/%d\n\n", p, ptsb_comm(), ptsb_pid());
	ptsb_rep_cpu_line(&r);
	ptsb_rep_printf(&r, "Call Trace:\n <TASK>\n");
	ptsb_rep_trace(&r);
	ptsb_rep_printf(&r, " </TASK>\n");
	if (prev) {
		size_t cache;
		const char *cname = cache_of(prev->size, &cache);
		rep_stack(&r, "Allocated", prev->pid, prev->frames, prev->nframes);
		rep_stack(&r, "Freed", prev->free_pid, prev->free_frames, prev->nfree_frames);
		ptsb_rep_printf(&r, "\nThe buggy address belongs to the object at %016lx\n which belongs to the cache %s of size %zu\n"
				    "The buggy address is located 0 bytes inside of\n %zu-byte region [%016lx, %016lx)\n",
				prev->ptr, cname, cache, prev->size, prev->ptr, prev->ptr + prev->size);
	}
	ptsb_rep_printf(&r, "==================================================================\n");
	ptsb_rep_send(&r, 0);
}

static void free_tracked(const void *ptr, void *site)
{
	unsigned long p = (unsigned long)ptr;
	struct alloc *a, *old;
	if (ZERO_OR_NULL_PTR(ptr))
		return;
	if (!canonical(p)) {
		/* what kfree of a poisoned pointer does in the kernel: a GP fault inside kfree */
		struct ptsb_report r;
		ptsb_rep_init(&r);
		ptsb_rep_printf(&r, "general protection fault, probably for non-canonical address 0x%016lx: 0000 [#1] PREEMPT SMP KASAN NOPTI\n", p);
		ptsb_oops_now(&r);
	}
	ptsb_os_mutex_lock(table_lock);
	a = unlink_live(p);
	if (!a) {
		struct alloc *prev = find_freed(p, 0);
		ptsb_os_mutex_unlock(table_lock);
		report_bad_free(prev ? "double-free" : "invalid-free", p, prev, site);
		return;
	}
	capture(a->free_frames, &a->nfree_frames, &a->free_pid, NULL);
	old = freed[freed_next % FREED_RING];
	freed[freed_next % FREED_RING] = a;
	freed_next++;
	ptsb_os_mutex_unlock(table_lock);
	if (old)
		ptsb_os_free(old);
	ptsb_os_free((void *)p);
}

#define SITE __builtin_return_address(0)

void *kmalloc(size_t size, gfp_t flags) { return alloc_tracked(size, flags, SITE); }
void *kzalloc(size_t size, gfp_t flags) { return alloc_tracked(size, flags | __GFP_ZERO, SITE); }

void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return alloc_tracked(n * size, flags, SITE);
}

void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return alloc_tracked(n * size, flags | __GFP_ZERO, SITE);
}

size_t ksize(const void *p)
{
	struct alloc *a;
	size_t n = 0;
	if (ZERO_OR_NULL_PTR(p))
		return 0;
	ptsb_os_mutex_lock(table_lock);
	for (a = live[bucket((unsigned long)p)]; a; a = a->next)
		if (a->ptr == (unsigned long)p)
			n = a->size;
	ptsb_os_mutex_unlock(table_lock);
	return n;
}

void *krealloc(const void *p, size_t new_size, gfp_t flags)
{
	void *n;
	size_t old;
	if (!new_size) {
		free_tracked(p, SITE);
		return ZERO_SIZE_PTR;
	}
	old = ZERO_OR_NULL_PTR(p) ? 0 : ksize(p);
	n = alloc_tracked(new_size, flags, SITE);
	if (!n)
		return NULL;
	if (old)
		memcpy(n, p, old < new_size ? old : new_size);
	if (!ZERO_OR_NULL_PTR(p))
		free_tracked(p, SITE);
	return n;
}

void *krealloc_array(void *p, size_t n, size_t size, gfp_t flags)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return krealloc(p, n * size, flags);
}

void kfree(const void *p) { free_tracked(p, SITE); }
void kfree_sensitive(const void *p) { free_tracked(p, SITE); }
void *kvmalloc(size_t size, gfp_t flags) { return alloc_tracked(size, flags, SITE); }
void *kvzalloc(size_t size, gfp_t flags) { return alloc_tracked(size, flags | __GFP_ZERO, SITE); }
void *kvcalloc(size_t n, size_t size, gfp_t flags) { return (size && n > SIZE_MAX / size) ? NULL : alloc_tracked(n * size, flags | __GFP_ZERO, SITE); }
void *kvmalloc_array(size_t n, size_t size, gfp_t flags) { return (size && n > SIZE_MAX / size) ? NULL : alloc_tracked(n * size, flags, SITE); }
void kvfree(const void *p) { free_tracked(p, SITE); }
void *vmalloc(unsigned long size) { return alloc_tracked(size, GFP_KERNEL, SITE); }
void *vzalloc(unsigned long size) { return alloc_tracked(size, GFP_KERNEL | __GFP_ZERO, SITE); }
void vfree(const void *p) { free_tracked(p, SITE); }
unsigned long __get_free_pages(gfp_t gfp, unsigned int order) { return (unsigned long)alloc_tracked(PAGE_SIZE << order, gfp, SITE); }
unsigned long get_zeroed_page(gfp_t gfp) { return (unsigned long)alloc_tracked(PAGE_SIZE, gfp | __GFP_ZERO, SITE); }
void free_pages(unsigned long addr, unsigned int order) { (void)order; free_tracked((void *)addr, SITE); }

char *kstrdup(const char *s, gfp_t gfp)
{
	size_t n;
	char *d;
	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = alloc_tracked(n, gfp, SITE);
	if (d)
		memcpy(d, s, n);
	return d;
}

const char *kstrdup_const(const char *s, gfp_t gfp) { return kstrdup(s, gfp); }

char *kstrndup(const char *s, size_t max, gfp_t gfp)
{
	size_t n;
	char *d;
	if (!s)
		return NULL;
	n = strnlen(s, max);
	d = alloc_tracked(n + 1, gfp, SITE);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *d = alloc_tracked(len, gfp, SITE);
	if (d && !ZERO_OR_NULL_PTR(d))
		memcpy(d, src, len);
	return d;
}

void *memdup_user(const void __user *src, size_t len)
{
	void *d = alloc_tracked(len, GFP_KERNEL, SITE);
	if (!d)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(d, src, len)) {
		free_tracked(d, SITE);
		return ERR_PTR(-EFAULT);
	}
	return d;
}

void *memdup_user_nul(const void __user *src, size_t len)
{
	char *d = alloc_tracked(len + 1, GFP_KERNEL, SITE);
	if (!d)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(d, src, len)) {
		free_tracked(d, SITE);
		return ERR_PTR(-EFAULT);
	}
	d[len] = 0;
	return d;
}

char *strndup_user(const char __user *s, long n)
{
	long len = strnlen_user(s, n);
	char *d;
	if (!len)
		return ERR_PTR(-EFAULT);
	if (len > n)
		return ERR_PTR(-EINVAL);
	d = memdup_user(s, (size_t)len);
	if (IS_ERR(d))
		return d;
	d[len - 1] = 0;
	return d;
}

char *kvasprintf(gfp_t gfp, const char *fmt, va_list args)
{
	va_list aq;
	int n;
	char *d;
	va_copy(aq, args);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	d = alloc_tracked((size_t)n + 1, gfp, SITE);
	if (d)
		vsnprintf(d, (size_t)n + 1, fmt, args);
	return d;
}

char *kasprintf(gfp_t gfp, const char *fmt, ...)
{
	va_list ap;
	char *d;
	va_start(ap, fmt);
	d = kvasprintf(gfp, fmt, ap);
	va_end(ap);
	return d;
}

/* kmem caches: objects are kmalloc'd with the cache's size */
struct kmem_cache {
	const char *name;
	unsigned int size;
	void (*ctor)(void *);
};

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned long flags, void (*ctor)(void *))
{
	struct kmem_cache *c = ptsb_os_malloc(sizeof *c);
	(void)align;
	(void)flags;
	c->name = name;
	c->size = size;
	c->ctor = ctor;
	return c;
}

void kmem_cache_destroy(struct kmem_cache *c) { ptsb_os_free(c); }

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t flags)
{
	void *p = alloc_tracked(c->size, flags, SITE);
	if (p && c->ctor)
		c->ctor(p);
	return p;
}

void *kmem_cache_zalloc(struct kmem_cache *c, gfp_t flags) { return alloc_tracked(c->size, flags | __GFP_ZERO, SITE); }
void kmem_cache_free(struct kmem_cache *c, void *p) { (void)c; free_tracked(p, SITE); }

/* kmemleak at unload: every object still allocated is unreferenced now */
void ptsb_kmemleak_scan(void)
{
	struct ptsb_report r;
	unsigned int b;
	struct alloc *a;
	long n;
	int shown = 0;
	ptsb_os_mutex_lock(table_lock);
	n = nlive;
	if (!n) {
		ptsb_os_mutex_unlock(table_lock);
		return;
	}
	ptsb_rep_init(&r);
	ptsb_rep_printf(&r, "kmemleak: %ld new suspected memory leaks (see /sys/kernel/debug/kmemleak)\n", n);
	for (b = 0; b < BUCKETS && shown < 20; b++)
		for (a = live[b]; a && shown < 20; a = a->next, shown++) {
			size_t i, k = a->size < 32 ? a->size : 32;
			const unsigned char *p = (const unsigned char *)a->ptr;
			ptsb_rep_printf(&r, "unreferenced object 0x%016lx (size %zu):\n", a->ptr, a->size);
			ptsb_rep_printf(&r, "  comm \"%s\", pid %d, jiffies %lu (age %lu.%03lus)\n", a->comm, a->pid,
					a->when, (jiffies - a->when) / HZ, ((jiffies - a->when) % HZ) * (1000 / HZ));
			ptsb_rep_printf(&r, "  hex dump (first %zu bytes):\n", k);
			for (i = 0; i < k; i += 16) {
				size_t j;
				char hex[64] = "", asc[20] = "";
				for (j = i; j < k && j < i + 16; j++) {
					char h[4];
					snprintf(h, sizeof h, "%02x ", p[j]);
					strcat(hex, h);
					asc[j - i] = (p[j] >= 32 && p[j] < 127) ? (char)p[j] : '.';
				}
				ptsb_rep_printf(&r, "    %-48s %s\n", hex, asc);
			}
			ptsb_rep_printf(&r, "  backtrace:\n");
			ptsb_rep_frames(&r, a->frames, a->nframes, -1);
		}
	ptsb_os_mutex_unlock(table_lock);
	ptsb_rep_send(&r, 0);
}
