/* kfifo: a power-of-two ring of fixed-size elements, or of records (each with a
 * 1- or 2-byte length header: kfifo_rec_ptr_1 / _2). The type-generic macros
 * carry the element type and the record header size in a union's pointer
 * members, so one set of functions serves every fifo. */
#ifndef _PTSB_LINUX_KFIFO_H
#define _PTSB_LINUX_KFIFO_H
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/gfp.h>

struct __kfifo {
	unsigned int in;
	unsigned int out;
	unsigned int mask;
	unsigned int esize;
	void *data;
};

/* type: the element type; rectype: char[header size] (0: not a record fifo) */
#define __PTSB_KFIFO_UNION(elem, recsize, ptrtype) \
	union { \
		struct __kfifo kfifo; \
		elem *type; \
		const elem *const_type; \
		char (*rectype)[recsize]; \
		ptrtype *ptr; \
		ptrtype const *ptr_const; \
	}
#define __STRUCT_KFIFO(elem, size, recsize, ptrtype) \
	{ __PTSB_KFIFO_UNION(elem, recsize, ptrtype); elem buf[((size < 2) || (size & (size - 1))) ? -1 : size]; }
#define STRUCT_KFIFO(elem, size) struct __STRUCT_KFIFO(elem, size, 0, elem)
#define __STRUCT_KFIFO_PTR(elem, recsize, ptrtype) \
	{ __PTSB_KFIFO_UNION(elem, recsize, ptrtype); elem buf[0]; }
#define STRUCT_KFIFO_PTR(elem) struct __STRUCT_KFIFO_PTR(elem, 0, elem)
#define STRUCT_KFIFO_REC_1(size) struct __STRUCT_KFIFO(unsigned char, size, 1, void)
#define STRUCT_KFIFO_REC_2(size) struct __STRUCT_KFIFO(unsigned char, size, 2, void)

struct kfifo __STRUCT_KFIFO_PTR(unsigned char, 0, void);
struct kfifo_rec_ptr_1 __STRUCT_KFIFO_PTR(unsigned char, 1, void);
struct kfifo_rec_ptr_2 __STRUCT_KFIFO_PTR(unsigned char, 2, void);

#define __ptsb_is_kfifo_ptr(fifo) \
	(sizeof(*(fifo)) == sizeof(STRUCT_KFIFO_PTR(__typeof__(*(fifo)->type))))
#define DECLARE_KFIFO_PTR(fifo, elem) STRUCT_KFIFO_PTR(elem) fifo
#define DECLARE_KFIFO(fifo, elem, size) STRUCT_KFIFO(elem, size) fifo
#define INIT_KFIFO(fifo) ({ \
	__typeof__(&(fifo)) __tmp = &(fifo); \
	struct __kfifo *__k = &__tmp->kfifo; \
	__k->in = 0; __k->out = 0; \
	__k->mask = __ptsb_is_kfifo_ptr(__tmp) ? 0 : ARRAY_SIZE(__tmp->buf) - 1; \
	__k->esize = sizeof(*__tmp->buf); \
	__k->data = __ptsb_is_kfifo_ptr(__tmp) ? NULL : __tmp->buf; })
#define DEFINE_KFIFO(fifo, elem, size) \
	DECLARE_KFIFO(fifo, elem, size) = (__typeof__(fifo)) { { { .in = 0, .out = 0, \
		.mask = ARRAY_SIZE(fifo.buf) - 1, .esize = sizeof(*fifo.buf), .data = fifo.buf, } } }

int __kfifo_alloc(struct __kfifo *fifo, unsigned int size, size_t esize, gfp_t gfp);
void __kfifo_free(struct __kfifo *fifo);
int __kfifo_init(struct __kfifo *fifo, void *buffer, unsigned int size, size_t esize);
unsigned int __kfifo_in(struct __kfifo *fifo, const void *buf, unsigned int len);
unsigned int __kfifo_out(struct __kfifo *fifo, void *buf, unsigned int len);
unsigned int __kfifo_out_peek(struct __kfifo *fifo, void *buf, unsigned int len);
int __kfifo_to_user(struct __kfifo *fifo, void __user *to, unsigned long len, unsigned int *copied);
int __kfifo_from_user(struct __kfifo *fifo, const void __user *from, unsigned long len, unsigned int *copied);
unsigned int __kfifo_in_r(struct __kfifo *fifo, const void *buf, unsigned int len, size_t recsize);
unsigned int __kfifo_out_r(struct __kfifo *fifo, void *buf, unsigned int len, size_t recsize);
unsigned int __kfifo_out_peek_r(struct __kfifo *fifo, void *buf, unsigned int len, size_t recsize);
int __kfifo_to_user_r(struct __kfifo *fifo, void __user *to, unsigned long len, unsigned int *copied, size_t recsize);
int __kfifo_from_user_r(struct __kfifo *fifo, const void __user *from, unsigned long len, unsigned int *copied, size_t recsize);
unsigned int __kfifo_len_r(struct __kfifo *fifo, size_t recsize);
void __kfifo_skip_r(struct __kfifo *fifo, size_t recsize);
unsigned int __kfifo_max_r(unsigned int len, size_t recsize);

#define __kfifo_recsize(t) (sizeof(*(t)->rectype))
#define kfifo_initialized(fifo) ((fifo)->kfifo.mask)
#define kfifo_esize(fifo) ((fifo)->kfifo.esize)
#define kfifo_recsize(fifo) (sizeof(*(fifo)->rectype))
#define kfifo_size(fifo) ((fifo)->kfifo.mask + 1)
#define kfifo_reset(fifo) (void)({ __typeof__((fifo) + 1) __tmp = (fifo); __tmp->kfifo.in = __tmp->kfifo.out = 0; })
#define kfifo_reset_out(fifo) (void)({ __typeof__((fifo) + 1) __tmp = (fifo); __tmp->kfifo.out = __tmp->kfifo.in; })
#define kfifo_len(fifo) ({ __typeof__((fifo) + 1) __tmpl = (fifo); __tmpl->kfifo.in - __tmpl->kfifo.out; })
#define kfifo_is_empty(fifo) ({ __typeof__((fifo) + 1) __tmpq = (fifo); __tmpq->kfifo.in == __tmpq->kfifo.out; })
#define kfifo_is_full(fifo) ({ __typeof__((fifo) + 1) __tmpq = (fifo); kfifo_len(__tmpq) > __tmpq->kfifo.mask; })
#define kfifo_avail(fifo) ({ \
	__typeof__((fifo) + 1) __tmpq = (fifo); \
	const size_t __recsize = sizeof(*__tmpq->rectype); \
	unsigned int __avail = kfifo_size(__tmpq) - kfifo_len(__tmpq); \
	(__recsize) ? __kfifo_max_r(__avail, __recsize) : __avail; })
#define kfifo_skip(fifo) (void)({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	const size_t __recsize = sizeof(*__tmp->rectype); \
	if (__recsize) __kfifo_skip_r(&__tmp->kfifo, __recsize); else __tmp->kfifo.out++; })
#define kfifo_peek_len(fifo) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	const size_t __recsize = sizeof(*__tmp->rectype); \
	(!__recsize) ? kfifo_len(__tmp) * sizeof(*__tmp->type) : __kfifo_len_r(&__tmp->kfifo, __recsize); })
#define kfifo_alloc(fifo, size, gfp) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__kfifo_alloc(&__tmp->kfifo, (size), sizeof(*__tmp->type), (gfp)); })
#define kfifo_free(fifo) ({ __typeof__((fifo) + 1) __tmp = (fifo); __kfifo_free(&__tmp->kfifo); })
#define kfifo_init(fifo, buffer, size) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__kfifo_init(&__tmp->kfifo, (buffer), (size), sizeof(*__tmp->type)); })
#define kfifo_put(fifo, val) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__typeof__(*__tmp->const_type) __val = (val); \
	__kfifo_in(&__tmp->kfifo, &__val, 1); })
#define kfifo_get(fifo, val) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__kfifo_out(&__tmp->kfifo, (val), 1); })
#define kfifo_peek(fifo, val) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__kfifo_out_peek(&__tmp->kfifo, (val), 1); })
#define kfifo_in(fifo, buf, n) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__typeof__(__tmp->ptr_const) __buf = (buf); \
	const size_t __recsize = sizeof(*__tmp->rectype); \
	(__recsize) ? __kfifo_in_r(&__tmp->kfifo, __buf, (n), __recsize) \
		    : __kfifo_in(&__tmp->kfifo, __buf, (n)); })
#define kfifo_out(fifo, buf, n) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__typeof__(__tmp->ptr) __buf = (buf); \
	const size_t __recsize = sizeof(*__tmp->rectype); \
	(__recsize) ? __kfifo_out_r(&__tmp->kfifo, __buf, (n), __recsize) \
		    : __kfifo_out(&__tmp->kfifo, __buf, (n)); })
#define kfifo_out_peek(fifo, buf, n) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	__typeof__(__tmp->ptr) __buf = (buf); \
	const size_t __recsize = sizeof(*__tmp->rectype); \
	(__recsize) ? __kfifo_out_peek_r(&__tmp->kfifo, __buf, (n), __recsize) \
		    : __kfifo_out_peek(&__tmp->kfifo, __buf, (n)); })
#define kfifo_in_spinlocked(fifo, buf, n, lock) ({ \
	unsigned long __flags; unsigned int __ret; \
	spin_lock_irqsave(lock, __flags); __ret = kfifo_in(fifo, buf, n); \
	spin_unlock_irqrestore(lock, __flags); __ret; })
#define kfifo_out_spinlocked(fifo, buf, n, lock) ({ \
	unsigned long __flags; unsigned int __ret; \
	spin_lock_irqsave(lock, __flags); __ret = kfifo_out(fifo, buf, n); \
	spin_unlock_irqrestore(lock, __flags); __ret; })
#define kfifo_in_spinlocked_noirqsave(fifo, buf, n, lock) ({ \
	unsigned int __ret; spin_lock(lock); __ret = kfifo_in(fifo, buf, n); spin_unlock(lock); __ret; })
#define kfifo_out_spinlocked_noirqsave(fifo, buf, n, lock) ({ \
	unsigned int __ret; spin_lock(lock); __ret = kfifo_out(fifo, buf, n); spin_unlock(lock); __ret; })
#define kfifo_in_locked kfifo_in_spinlocked
#define kfifo_out_locked kfifo_out_spinlocked
#define kfifo_from_user(fifo, from, len, copied) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	const size_t __recsize = sizeof(*__tmp->rectype); \
	(__recsize) ? __kfifo_from_user_r(&__tmp->kfifo, (from), (len), (copied), __recsize) \
		    : __kfifo_from_user(&__tmp->kfifo, (from), (len), (copied)); })
#define kfifo_to_user(fifo, to, len, copied) ({ \
	__typeof__((fifo) + 1) __tmp = (fifo); \
	const size_t __recsize = sizeof(*__tmp->rectype); \
	(__recsize) ? __kfifo_to_user_r(&__tmp->kfifo, (to), (len), (copied), __recsize) \
		    : __kfifo_to_user(&__tmp->kfifo, (to), (len), (copied)); })
#endif
