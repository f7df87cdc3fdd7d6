/* Spinlocks and rwlocks. Holding one makes the context atomic: a sleeping call
 * then gets "BUG: sleeping function called from invalid context"; taking one
 * the task already holds gets "WARNING: possible recursive locking detected". */
#ifndef _PTSB_LINUX_SPINLOCK_H
#define _PTSB_LINUX_SPINLOCK_H
#include <linux/types.h>
#include <linux/compiler.h>

#define SPINLOCK_MAGIC 0xdead4ead

typedef struct spinlock {
	unsigned int magic;
	unsigned int kind;
	void *owner;
	const char *name;
	void *site; /* where the holder took it */
	long __impl[7] __aligned(8); /* the host's mutex or rwlock; zero: unlocked */
} spinlock_t;
typedef spinlock_t raw_spinlock_t;
typedef spinlock_t rwlock_t;

#define __SPIN_LOCK_UNLOCKED(lockname) { .magic = SPINLOCK_MAGIC, .name = #lockname }
#define __RW_LOCK_UNLOCKED(lockname) { .magic = SPINLOCK_MAGIC, .kind = 1, .name = #lockname }
#define SPIN_LOCK_UNLOCKED __SPIN_LOCK_UNLOCKED(old_style_spin_init)
#define RW_LOCK_UNLOCKED __RW_LOCK_UNLOCKED(old_style_rw_init)
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define DEFINE_RAW_SPINLOCK(x) DEFINE_SPINLOCK(x)
#define DEFINE_RWLOCK(x) rwlock_t x = __RW_LOCK_UNLOCKED(x)

void __ptsb_spin_init(spinlock_t *l, const char *name, unsigned int kind);
void __ptsb_spin_lock(spinlock_t *l, void *site);
int __ptsb_spin_trylock(spinlock_t *l, void *site);
void __ptsb_spin_unlock(spinlock_t *l, void *site);
void __ptsb_read_lock(spinlock_t *l, void *site);
void __ptsb_read_unlock(spinlock_t *l, void *site);
int __ptsb_spin_is_locked(spinlock_t *l);
void __ptsb_irq_save(void);
void __ptsb_irq_restore(void);

#define __PTSB_SITE __builtin_return_address(0)
#define spin_lock_init(l) __ptsb_spin_init((l), #l, 0)
#define raw_spin_lock_init spin_lock_init
#define rwlock_init(l) __ptsb_spin_init((l), #l, 1)
#define spin_lock(l) __ptsb_spin_lock((l), __PTSB_SITE)
#define spin_unlock(l) __ptsb_spin_unlock((l), __PTSB_SITE)
#define spin_trylock(l) __ptsb_spin_trylock((l), __PTSB_SITE)
#define spin_is_locked(l) __ptsb_spin_is_locked(l)
#define spin_lock_bh spin_lock
#define spin_unlock_bh spin_unlock
#define spin_lock_irq(l) do { __ptsb_irq_save(); spin_lock(l); } while (0)
#define spin_unlock_irq(l) do { spin_unlock(l); __ptsb_irq_restore(); } while (0)
#define spin_lock_irqsave(l, flags) do { __ptsb_irq_save(); (flags) = 0x246; spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); __ptsb_irq_restore(); } while (0)
#define spin_trylock_irqsave(l, flags) ({ __ptsb_irq_save(); (flags) = 0x246; \
	spin_trylock(l) ? 1 : (__ptsb_irq_restore(), 0); })
#define raw_spin_lock spin_lock
#define raw_spin_unlock spin_unlock
#define raw_spin_lock_irqsave spin_lock_irqsave
#define raw_spin_unlock_irqrestore spin_unlock_irqrestore
#define read_lock(l) __ptsb_read_lock((l), __PTSB_SITE)
#define read_unlock(l) __ptsb_read_unlock((l), __PTSB_SITE)
#define write_lock(l) __ptsb_spin_lock((l), __PTSB_SITE)
#define write_unlock(l) __ptsb_spin_unlock((l), __PTSB_SITE)
#define read_lock_bh read_lock
#define read_unlock_bh read_unlock
#define write_lock_bh write_lock
#define write_unlock_bh write_unlock
#define read_lock_irqsave(l, flags) do { __ptsb_irq_save(); (flags) = 0x246; read_lock(l); } while (0)
#define read_unlock_irqrestore(l, flags) do { (void)(flags); read_unlock(l); __ptsb_irq_restore(); } while (0)
#define write_lock_irqsave(l, flags) do { __ptsb_irq_save(); (flags) = 0x246; write_lock(l); } while (0)
#define write_unlock_irqrestore(l, flags) do { (void)(flags); write_unlock(l); __ptsb_irq_restore(); } while (0)
#define read_lock_irq(l) do { __ptsb_irq_save(); read_lock(l); } while (0)
#define read_unlock_irq(l) do { read_unlock(l); __ptsb_irq_restore(); } while (0)
#define write_lock_irq(l) do { __ptsb_irq_save(); write_lock(l); } while (0)
#define write_unlock_irq(l) do { write_unlock(l); __ptsb_irq_restore(); } while (0)
#define local_irq_save(flags) do { __ptsb_irq_save(); (flags) = 0x246; } while (0)
#define local_irq_restore(flags) do { (void)(flags); __ptsb_irq_restore(); } while (0)
#define local_irq_disable() __ptsb_irq_save()
#define local_irq_enable() __ptsb_irq_restore()
void preempt_disable(void);
void preempt_enable(void);
#define preempt_enable_no_resched preempt_enable
#define assert_spin_locked(l) WARN_ON(!spin_is_locked(l))
#define lockdep_assert_held(l) do { } while (0)
#endif
