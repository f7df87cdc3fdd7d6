/* Atomic counters (sequentially consistent builtins). */
#ifndef _PTSB_LINUX_ATOMIC_H
#define _PTSB_LINUX_ATOMIC_H
#include <linux/types.h>

#define ATOMIC_INIT(i) { (i) }
#define ATOMIC64_INIT(i) { (i) }
#define ATOMIC_LONG_INIT(i) { (i) }

#define __PTSB_ATOMIC_OPS(pfx, atype, vtype) \
static inline vtype pfx##_read(const atype *v) { return __atomic_load_n(&v->counter, __ATOMIC_SEQ_CST); } \
static inline void pfx##_set(atype *v, vtype i) { __atomic_store_n(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline void pfx##_add(vtype i, atype *v) { __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline void pfx##_sub(vtype i, atype *v) { __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline void pfx##_inc(atype *v) { pfx##_add(1, v); } \
static inline void pfx##_dec(atype *v) { pfx##_sub(1, v); } \
static inline vtype pfx##_add_return(vtype i, atype *v) { return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline vtype pfx##_sub_return(vtype i, atype *v) { return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline vtype pfx##_fetch_add(vtype i, atype *v) { return __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline vtype pfx##_fetch_sub(vtype i, atype *v) { return __atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline vtype pfx##_inc_return(atype *v) { return pfx##_add_return(1, v); } \
static inline vtype pfx##_dec_return(atype *v) { return pfx##_sub_return(1, v); } \
static inline bool pfx##_inc_and_test(atype *v) { return pfx##_add_return(1, v) == 0; } \
static inline bool pfx##_dec_and_test(atype *v) { return pfx##_sub_return(1, v) == 0; } \
static inline bool pfx##_sub_and_test(vtype i, atype *v) { return pfx##_sub_return(i, v) == 0; } \
static inline bool pfx##_add_negative(vtype i, atype *v) { return pfx##_add_return(i, v) < 0; } \
static inline vtype pfx##_xchg(atype *v, vtype i) { return __atomic_exchange_n(&v->counter, i, __ATOMIC_SEQ_CST); } \
static inline vtype pfx##_cmpxchg(atype *v, vtype old, vtype new) { \
	__atomic_compare_exchange_n(&v->counter, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); return old; } \
static inline bool pfx##_add_unless(atype *v, vtype a, vtype u) { \
	vtype c = pfx##_read(v); \
	do { if (c == u) return false; } while (!__atomic_compare_exchange_n(&v->counter, &c, c + a, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)); \
	return true; } \
static inline bool pfx##_inc_not_zero(atype *v) { return pfx##_add_unless(v, 1, 0); }

__PTSB_ATOMIC_OPS(atomic, atomic_t, int)
__PTSB_ATOMIC_OPS(atomic64, atomic64_t, long)
#define atomic_long_read atomic64_read
#define atomic_long_set atomic64_set
#define atomic_long_inc atomic64_inc
#define atomic_long_dec atomic64_dec
#define atomic_long_add atomic64_add
#define atomic_long_sub atomic64_sub
#define atomic_long_inc_return atomic64_inc_return
#define atomic_long_dec_return atomic64_dec_return
#define atomic_long_dec_and_test atomic64_dec_and_test

#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() smp_mb()
#define smp_wmb() smp_mb()
#define mb() smp_mb()
#define rmb() smp_mb()
#define wmb() smp_mb()
#define smp_mb__before_atomic() smp_mb()
#define smp_mb__after_atomic() smp_mb()
#define xchg(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST)
#define cmpxchg(ptr, o, n) ({ __typeof__(*(ptr)) __o = (o); \
	__atomic_compare_exchange_n((ptr), &__o, (n), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); __o; })

static inline void set_bit(long nr, volatile unsigned long *addr) { __atomic_or_fetch(&addr[nr / 64], 1UL << (nr % 64), __ATOMIC_SEQ_CST); }
static inline void clear_bit(long nr, volatile unsigned long *addr) { __atomic_and_fetch(&addr[nr / 64], ~(1UL << (nr % 64)), __ATOMIC_SEQ_CST); }
static inline bool test_bit(long nr, const volatile unsigned long *addr) { return (addr[nr / 64] >> (nr % 64)) & 1; }
static inline bool test_and_set_bit(long nr, volatile unsigned long *addr) { return (__atomic_fetch_or(&addr[nr / 64], 1UL << (nr % 64), __ATOMIC_SEQ_CST) >> (nr % 64)) & 1; }
static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr) { return (__atomic_fetch_and(&addr[nr / 64], ~(1UL << (nr % 64)), __ATOMIC_SEQ_CST) >> (nr % 64)) & 1; }
#define __set_bit set_bit
#define __clear_bit clear_bit
#endif
