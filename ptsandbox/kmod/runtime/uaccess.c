/* The calling process's memory. The host reads and writes it through the
 * caller's /proc/TID/mem (opened by the supervisor, the tracer, and passed
 * over), so a short transfer is exactly copy_*_user's "bytes not copied".
 *
 * User pointers never point at host memory: the pointer a call receives (the
 * read/write buffer, an ioctl argument that points into the caller's memory)
 * is handed to the module re-based into a window the host keeps unmapped
 * (PROT_NONE), with its low 32 bits kept. copy_*_user map it back; a direct
 * dereference faults there, and the fault is reported as the kernel reports
 * an access to user memory from kernel mode (SMAP). */
#include <linux/kernel.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include <linux/kstrtox.h>

#include "ptsb.h"
#include "rt.h"

#define TASK_SIZE_MAX 0x00007ffffffff000UL
#define WINDOW_BASE 0x200000000000UL
#define SLOT_SHIFT 33
#define SLOT_SIZE (1UL << SLOT_SHIFT)
#define SLOT_HALF (1UL << 32)
#define NSLOTS 1024

static unsigned long slot_real[NSLOTS];
static unsigned char slot_used[NSLOTS];

void ptsb_uaccess_init(void)
{
	ptsb_os_reserve(WINDOW_BASE, NSLOTS * SLOT_SIZE);
}

static unsigned long slot_base(int s) { return WINDOW_BASE + (unsigned long)s * SLOT_SIZE; }

unsigned long ptsb_user_encode(struct ptsb_task *t, unsigned long real, int probe)
{
	int s;
	if (real < 65536 || real >= TASK_SIZE_MAX)
		return real; /* NULL-ish or kernel addresses: as they are (they fault or fail) */
	if (probe) {
		char c;
		if (t->memfd < 0 || ptsb_os_pread(t->memfd, &c, 1, real) != 1)
			return real; /* an ioctl argument that is a number, not a pointer */
	}
	ptsb_sched_lock();
	s = t->slot;
	if (s < 0) {
		for (s = 0; s < NSLOTS && slot_used[s]; s++)
			;
		if (s == NSLOTS) {
			ptsb_sched_unlock();
			return real;
		}
		slot_used[s] = 1;
		t->slot = s;
	}
	slot_real[s] = real;
	ptsb_sched_unlock();
	return slot_base(s) + SLOT_HALF + (real & (SLOT_HALF - 1));
}

void ptsb_uaccess_release(struct ptsb_task *t)
{
	if (t->slot >= 0) {
		ptsb_sched_lock();
		slot_used[t->slot] = 0;
		ptsb_sched_unlock();
		t->slot = -1;
	}
}

int ptsb_user_decode(unsigned long enc, unsigned long *real, int *encoded)
{
	if (enc >= WINDOW_BASE && enc < WINDOW_BASE + NSLOTS * SLOT_SIZE) {
		int s = (int)((enc - WINDOW_BASE) >> SLOT_SHIFT);
		unsigned long base = slot_base(s) + SLOT_HALF + (slot_real[s] & (SLOT_HALF - 1));
		*real = slot_real[s] + (enc - base);
		if (encoded)
			*encoded = 1;
		return 1;
	}
	*real = enc;
	if (encoded)
		*encoded = 0;
	return 0;
}

static int range_ok(unsigned long real, unsigned long n)
{
	return real <= TASK_SIZE_MAX && n <= TASK_SIZE_MAX - real;
}

int __ptsb_access_ok(const void __user *addr, unsigned long size)
{
	unsigned long real;
	ptsb_user_decode((unsigned long)addr, &real, NULL);
	return range_ok(real, size);
}

static int memfd_of(void)
{
	struct ptsb_task *t = ptsb_self();
	return t ? t->memfd : -1;
}

unsigned long copy_from_user(void *to, const void __user *from, unsigned long n)
{
	unsigned long real;
	long got = 0;
	int fd = memfd_of();
	__ptsb_might_sleep("include/linux/uaccess.h", 161, __builtin_return_address(0));
	ptsb_user_decode((unsigned long)from, &real, NULL);
	if (!n)
		return 0;
	if (range_ok(real, n) && fd >= 0)
		got = ptsb_os_pread(fd, to, n, real);
	if ((unsigned long)got < n)
		memset((char *)to + got, 0, n - (unsigned long)got); /* as the kernel's copy_from_user */
	return n - (unsigned long)got;
}

unsigned long copy_to_user(void __user *to, const void *from, unsigned long n)
{
	unsigned long real;
	long put = 0;
	int fd = memfd_of();
	__ptsb_might_sleep("include/linux/uaccess.h", 169, __builtin_return_address(0));
	ptsb_user_decode((unsigned long)to, &real, NULL);
	if (!n)
		return 0;
	if (range_ok(real, n) && fd >= 0)
		put = ptsb_os_pwrite(fd, from, n, real);
	return n - (unsigned long)put;
}

unsigned long clear_user(void __user *to, unsigned long n)
{
	static const char zeros[4096];
	unsigned long done = 0;
	while (done < n) {
		unsigned long k = n - done > sizeof zeros ? sizeof zeros : n - done;
		unsigned long left = copy_to_user((char __user *)to + done, zeros, k);
		done += k - left;
		if (left)
			break;
	}
	return n - done;
}

long strncpy_from_user(char *dst, const char __user *src, long count)
{
	unsigned long real;
	long i = 0;
	int fd = memfd_of();
	__ptsb_might_sleep("lib/strncpy_from_user.c", 119, __builtin_return_address(0));
	ptsb_user_decode((unsigned long)src, &real, NULL);
	if (count <= 0)
		return 0;
	if (!range_ok(real, 1) || fd < 0)
		return -EFAULT;
	while (i < count) {
		char chunk[256];
		long want = count - i < (long)sizeof chunk ? count - i : (long)sizeof chunk;
		long got, k;
		/* stop at a page end so that a string just before unmapped memory still reads */
		unsigned long page_left = 4096 - ((real + (unsigned long)i) & 4095);
		if ((unsigned long)want > page_left)
			want = (long)page_left;
		got = ptsb_os_pread(fd, chunk, (unsigned long)want, real + (unsigned long)i);
		if (got <= 0)
			return -EFAULT;
		for (k = 0; k < got; k++) {
			dst[i + k] = chunk[k];
			if (!chunk[k])
				return i + k;
		}
		i += got;
	}
	return count;
}

long strnlen_user(const char __user *src, long n)
{
	unsigned long real;
	long i;
	int fd = memfd_of();
	ptsb_user_decode((unsigned long)src, &real, NULL);
	if (fd < 0 || !range_ok(real, 1))
		return 0;
	for (i = 0; i < n; i++) {
		char c;
		if (ptsb_os_pread(fd, &c, 1, real + (unsigned long)i) != 1)
			return 0;
		if (!c)
			return i + 1;
	}
	return n + 1;
}

int kstrtoint_from_user(const char __user *s, size_t count, unsigned int base, int *res)
{
	char buf[32];
	if (count >= sizeof buf)
		count = sizeof buf - 1;
	if (copy_from_user(buf, s, count))
		return -EFAULT;
	buf[count] = 0;
	return kstrtoint(buf, base, res);
}

int kstrtoul_from_user(const char __user *s, size_t count, unsigned int base, unsigned long *res)
{
	char buf[32];
	if (count >= sizeof buf)
		count = sizeof buf - 1;
	if (copy_from_user(buf, s, count))
		return -EFAULT;
	buf[count] = 0;
	return kstrtoul(buf, base, res);
}
