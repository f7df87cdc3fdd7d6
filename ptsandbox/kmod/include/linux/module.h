/* Module boilerplate: THIS_MODULE, MODULE_*, module references. */
#ifndef _PTSB_LINUX_MODULE_H
#define _PTSB_LINUX_MODULE_H
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/list.h>
#include <linux/atomic.h>
#include <linux/stat.h>
#include <linux/kmod.h>

struct module {
	char name[56];
	atomic_t refcnt;
	int state;
};
extern struct module __this_module;
#define THIS_MODULE (&__this_module)

#define __PTSB_MODINFO(tag, info) \
	static const char __ptsb_mod_##tag##__LINE__[] __maybe_unused = #tag "=" info
#define MODULE_LICENSE(l) __PTSB_MODINFO(license, l)
#define MODULE_AUTHOR(a) __PTSB_MODINFO(author, a)
#define MODULE_DESCRIPTION(d) __PTSB_MODINFO(description, d)
#define MODULE_VERSION(v) __PTSB_MODINFO(version, v)
#define MODULE_ALIAS(a) __PTSB_MODINFO(alias, a)
#define MODULE_ALIAS_MISCDEV(m) __PTSB_MODINFO(alias, "char-major-10-" __stringify(m))
#define MODULE_SUPPORTED_DEVICE(d)
#define MODULE_INFO(tag, info) __PTSB_MODINFO(tag, info)
#define MODULE_DEVICE_TABLE(type, name)
#define MODULE_SOFTDEP(s)
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)

bool try_module_get(struct module *m);
void module_put(struct module *m);
void __module_get(struct module *m);
int module_refcount(struct module *m);
#define module_name(m) ((m)->name)
#endif
