/* kfifo: element rings and record rings (a 1- or 2-byte length before each record). */
#include <linux/kernel.h>
#include <linux/kfifo.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ptsb.h"
#include "rt.h"

static unsigned int roundup_pow2(unsigned int n)
{
	unsigned int p = 1;
	while (p < n && p < 0x80000000u)
		p <<= 1;
	return p;
}

static unsigned int rounddown_pow2(unsigned int n)
{
	unsigned int p = 1;
	while (p * 2 <= n && p < 0x80000000u)
		p <<= 1;
	return n ? p : 0;
}

int __kfifo_alloc(struct __kfifo *fifo, unsigned int size, size_t esize, gfp_t gfp)
{
	size = roundup_pow2(size);
	fifo->in = fifo->out = 0;
	fifo->esize = (unsigned int)esize;
	if (size < 2) {
		fifo->data = NULL;
		fifo->mask = 0;
		return -EINVAL;
	}
	fifo->data = kmalloc_array(esize, size, gfp);
	if (!fifo->data) {
		fifo->mask = 0;
		return -ENOMEM;
	}
	fifo->mask = size - 1;
	return 0;
}

void __kfifo_free(struct __kfifo *fifo)
{
	kfree(fifo->data);
	fifo->in = fifo->out = fifo->esize = fifo->mask = 0;
	fifo->data = NULL;
}

int __kfifo_init(struct __kfifo *fifo, void *buffer, unsigned int size, size_t esize)
{
	size /= (unsigned int)esize;
	size = rounddown_pow2(size);
	fifo->in = fifo->out = 0;
	fifo->esize = (unsigned int)esize;
	fifo->data = buffer;
	if (size < 2) {
		fifo->mask = 0;
		return -EINVAL;
	}
	fifo->mask = size - 1;
	return 0;
}

static unsigned int unused(struct __kfifo *f) { return (f->mask + 1) - (f->in - f->out); }

/* copy len elements in/out at element offset off, wrapping at the end */
static void copy_in(struct __kfifo *f, const void *src, unsigned int len, unsigned int off)
{
	unsigned int size = f->mask + 1, esize = f->esize, l;
	off &= f->mask;
	if (esize != 1) {
		off *= esize;
		size *= esize;
		len *= esize;
	}
	l = len < size - off ? len : size - off;
	memcpy((char *)f->data + off, src, l);
	memcpy(f->data, (const char *)src + l, len - l);
}

static void copy_out(struct __kfifo *f, void *dst, unsigned int len, unsigned int off)
{
	unsigned int size = f->mask + 1, esize = f->esize, l;
	off &= f->mask;
	if (esize != 1) {
		off *= esize;
		size *= esize;
		len *= esize;
	}
	l = len < size - off ? len : size - off;
	memcpy(dst, (char *)f->data + off, l);
	memcpy((char *)dst + l, f->data, len - l);
}

unsigned int __kfifo_in(struct __kfifo *f, const void *buf, unsigned int len)
{
	unsigned int l = unused(f);
	if (len > l)
		len = l;
	copy_in(f, buf, len, f->in);
	f->in += len;
	return len;
}

unsigned int __kfifo_out_peek(struct __kfifo *f, void *buf, unsigned int len)
{
	unsigned int l = f->in - f->out;
	if (len > l)
		len = l;
	copy_out(f, buf, len, f->out);
	return len;
}

unsigned int __kfifo_out(struct __kfifo *f, void *buf, unsigned int len)
{
	len = __kfifo_out_peek(f, buf, len);
	f->out += len;
	return len;
}

int __kfifo_from_user(struct __kfifo *f, const void __user *from, unsigned long len, unsigned int *copied)
{
	unsigned int l = unused(f), n;
	char *tmp;
	if (len > l)
		len = l;
	n = (unsigned int)len * f->esize;
	tmp = ptsb_os_malloc(n ? n : 1);
	if (copy_from_user(tmp, from, n)) {
		ptsb_os_free(tmp);
		*copied = 0;
		return -EFAULT;
	}
	copy_in(f, tmp, (unsigned int)len, f->in);
	ptsb_os_free(tmp);
	f->in += (unsigned int)len;
	*copied = (unsigned int)len * f->esize;
	return 0;
}

int __kfifo_to_user(struct __kfifo *f, void __user *to, unsigned long len, unsigned int *copied)
{
	unsigned int l = f->in - f->out, n;
	char *tmp;
	len /= f->esize;
	if (len > l)
		len = l;
	n = (unsigned int)len * f->esize;
	tmp = ptsb_os_malloc(n ? n : 1);
	copy_out(f, tmp, (unsigned int)len, f->out);
	if (copy_to_user(to, tmp, n)) {
		ptsb_os_free(tmp);
		*copied = 0;
		return -EFAULT;
	}
	ptsb_os_free(tmp);
	f->out += (unsigned int)len;
	*copied = n;
	return 0;
}

/* records */
unsigned int __kfifo_max_r(unsigned int len, size_t recsize)
{
	unsigned int max = (1u << (recsize << 3)) - 1;
	return len > max ? max : len;
}

static unsigned int peek_n(struct __kfifo *f, size_t recsize)
{
	unsigned int mask = f->mask, l;
	const unsigned char *data = f->data;
	l = data[f->out & mask];
	if (recsize > 1)
		l |= (unsigned int)data[(f->out + 1) & mask] << 8;
	return l;
}

static void poke_n(struct __kfifo *f, unsigned int n, size_t recsize)
{
	unsigned char *data = f->data;
	data[f->in & f->mask] = (unsigned char)n;
	if (recsize > 1)
		data[(f->in + 1) & f->mask] = (unsigned char)(n >> 8);
}

unsigned int __kfifo_len_r(struct __kfifo *f, size_t recsize)
{
	if (f->in == f->out)
		return 0;
	return peek_n(f, recsize);
}

unsigned int __kfifo_in_r(struct __kfifo *f, const void *buf, unsigned int len, size_t recsize)
{
	if (len + recsize > unused(f))
		return 0;
	poke_n(f, len, recsize);
	copy_in(f, buf, len, f->in + (unsigned int)recsize);
	f->in += len + (unsigned int)recsize;
	return len;
}

static unsigned int out_copy_r(struct __kfifo *f, void *buf, unsigned int len, size_t recsize, unsigned int *n)
{
	*n = peek_n(f, recsize);
	if (len > *n)
		len = *n;
	copy_out(f, buf, len, f->out + (unsigned int)recsize);
	return len;
}

unsigned int __kfifo_out_peek_r(struct __kfifo *f, void *buf, unsigned int len, size_t recsize)
{
	unsigned int n;
	if (f->in == f->out)
		return 0;
	return out_copy_r(f, buf, len, recsize, &n);
}

unsigned int __kfifo_out_r(struct __kfifo *f, void *buf, unsigned int len, size_t recsize)
{
	unsigned int n;
	if (f->in == f->out)
		return 0;
	len = out_copy_r(f, buf, len, recsize, &n);
	f->out += n + (unsigned int)recsize; /* the rest of a longer record is dropped */
	return len;
}

void __kfifo_skip_r(struct __kfifo *f, size_t recsize)
{
	unsigned int n = peek_n(f, recsize);
	f->out += n + (unsigned int)recsize;
}

int __kfifo_from_user_r(struct __kfifo *f, const void __user *from, unsigned long len, unsigned int *copied, size_t recsize)
{
	char *tmp;
	len = __kfifo_max_r((unsigned int)len, recsize);
	if (len + recsize > unused(f)) {
		*copied = 0;
		return 0;
	}
	tmp = ptsb_os_malloc(len ? len : 1);
	if (copy_from_user(tmp, from, len)) {
		ptsb_os_free(tmp);
		*copied = 0;
		return -EFAULT;
	}
	__kfifo_in_r(f, tmp, (unsigned int)len, recsize);
	ptsb_os_free(tmp);
	*copied = (unsigned int)len;
	return 0;
}

int __kfifo_to_user_r(struct __kfifo *f, void __user *to, unsigned long len, unsigned int *copied, size_t recsize)
{
	unsigned int n, l;
	char *tmp;
	if (f->in == f->out) {
		*copied = 0;
		return 0;
	}
	n = peek_n(f, recsize);
	l = len < n ? (unsigned int)len : n;
	tmp = ptsb_os_malloc(l ? l : 1);
	copy_out(f, tmp, l, f->out + (unsigned int)recsize);
	if (copy_to_user(to, tmp, l)) {
		ptsb_os_free(tmp);
		*copied = 0;
		return -EFAULT;
	}
	ptsb_os_free(tmp);
	f->out += n + (unsigned int)recsize;
	*copied = l;
	return 0;
}
