#ifndef _PTSB_LINUX_VMALLOC_H
#define _PTSB_LINUX_VMALLOC_H
#include <linux/slab.h>
void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void vfree(const void *p);
#endif
