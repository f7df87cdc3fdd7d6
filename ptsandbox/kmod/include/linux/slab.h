/* kmalloc and friends. Memory comes back poisoned (0x6b..., 0xa5 last) unless
 * zeroed, as with slub_debug; sizes above KMALLOC_MAX_SIZE fail with a warning. */
#ifndef _PTSB_LINUX_SLAB_H
#define _PTSB_LINUX_SLAB_H
#include <linux/types.h>
#include <linux/gfp.h>
#include <linux/compiler.h>

#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)
#define KMALLOC_MAX_SIZE (1UL << 22)
#define SLAB_HWCACHE_ALIGN 0x2000u
#define SLAB_PANIC 0x40000u
#define SLAB_ACCOUNT 0x4000000u

void *kmalloc(size_t size, gfp_t flags) __attribute__((malloc));
void *kzalloc(size_t size, gfp_t flags) __attribute__((malloc));
void *kcalloc(size_t n, size_t size, gfp_t flags) __attribute__((malloc));
void *kmalloc_array(size_t n, size_t size, gfp_t flags) __attribute__((malloc));
void *krealloc(const void *p, size_t new_size, gfp_t flags);
void *krealloc_array(void *p, size_t n, size_t size, gfp_t flags);
void kfree(const void *p);
void kfree_sensitive(const void *p);
#define kzfree kfree_sensitive
size_t ksize(const void *p);
void *kvmalloc(size_t size, gfp_t flags);
void *kvzalloc(size_t size, gfp_t flags);
void *kvcalloc(size_t n, size_t size, gfp_t flags);
void *kvmalloc_array(size_t n, size_t size, gfp_t flags);
void kvfree(const void *p);
#define kmalloc_node(s, f, n) kmalloc(s, f)
#define kzalloc_node(s, f, n) kzalloc(s, f)

struct kmem_cache;
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned long flags, void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *c);
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t flags);
void *kmem_cache_zalloc(struct kmem_cache *c, gfp_t flags);
void kmem_cache_free(struct kmem_cache *c, void *p);
#define KMEM_CACHE(s, f) kmem_cache_create(#s, sizeof(struct s), __alignof__(struct s), (f), NULL)
#endif
