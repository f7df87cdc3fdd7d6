/* module_param: typed parameters set at load as NAME=VALUE. */
#ifndef _PTSB_LINUX_MODULEPARAM_H
#define _PTSB_LINUX_MODULEPARAM_H
#include <linux/types.h>
#include <linux/init.h>

struct __ptsb_param {
	const char *name;
	const char *type;
	void *value;
	unsigned int size; /* for string params: the buffer size */
	unsigned int *count; /* for arrays */
	unsigned int elsize;
};

#define __ptsb_param_entry(pname, ptype, pvalue, psize, pcount, pelsize) \
	static const struct __ptsb_param __ptsb_param_##pname \
		__attribute__((used, section("ptsb_params"), aligned(8))) = \
		{ #pname, #ptype, (void *)(pvalue), (psize), (pcount), (pelsize) }

#define __ptsb_param_check_int(v) (void)sizeof((v) == (int *)0)
#define module_param_named(name, value, type, perm) \
	__ptsb_param_entry(name, type, &(value), sizeof(value), NULL, 0)
#define module_param(name, type, perm) module_param_named(name, name, type, perm)
#define module_param_unsafe module_param
#define module_param_string(name, string, len, perm) \
	__ptsb_param_entry(name, string, (string), (len), NULL, 0)
#define module_param_array_named(name, array, type, nump, perm) \
	__ptsb_param_entry(name, type, (array), sizeof(array), (nump), sizeof((array)[0]))
#define module_param_array(name, type, nump, perm) module_param_array_named(name, name, type, nump, perm)
#define MODULE_PARM_DESC(parm, desc) \
	static const char __ptsb_parmdesc_##parm[] __maybe_unused = #parm ":" desc
#define __MODULE_PARM_TYPE(name, _type)
#endif
