/* The kernel side of each request: what the VFS does around a driver's
 * file_operations (chrdev_open, vfs_read, vfs_ioctl, __fput ...), module
 * load with its parameters, and unload. Function names follow the kernel's so
 * that call traces read like a kernel's. */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>

#include "ptsb.h"
#include "rt.h"

extern int init_module(void) __attribute__((weak));
extern void cleanup_module(void) __attribute__((weak));
extern const struct __ptsb_param __start_ptsb_params[] __attribute__((weak));
extern const struct __ptsb_param __stop_ptsb_params[] __attribute__((weak));

long do_init_module(const char *payload, unsigned int len);
long delete_module(void);
long chrdev_open(const struct ptsb_req *req, unsigned long long *file_out);
long vfs_read(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, long long *pos);
long vfs_write(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, long long *pos);
long vfs_ioctl(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, int compat);
long vfs_llseek(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, long long *pos);
long vfs_poll(struct ptsb_task *t, struct file *f);
long __fput(struct ptsb_task *t, struct file *f);

struct ptsb_file {
	struct file file;
	struct dentry dentry;
	struct list_head polls; /* poll_wait registrations (struct poll_reg) */
};

struct poll_reg {
	struct list_head link;
	struct wait_queue_entry entry;
	wait_queue_head_t *wq;
};

#define INODE_BUCKETS 64
struct inode_node {
	struct inode inode;
	struct inode_node *next;
};
static struct inode_node *inodes[INODE_BUCKETS];

static struct inode *inode_for(unsigned long ino, dev_t rdev)
{
	struct inode_node *n;
	for (n = inodes[ino % INODE_BUCKETS]; n; n = n->next)
		if (n->inode.i_ino == ino && n->inode.i_rdev == rdev)
			return &n->inode;
	n = ptsb_os_malloc(sizeof *n);
	memset(n, 0, sizeof *n);
	n->inode.i_ino = ino;
	n->inode.i_rdev = rdev;
	n->inode.i_mode = S_IFCHR | 0666;
	n->inode.i_nlink = 1;
	n->next = inodes[ino % INODE_BUCKETS];
	inodes[ino % INODE_BUCKETS] = n;
	return &n->inode;
}

void __ptsb_poll_wait(struct file *filp, wait_queue_head_t *wq, poll_table *p)
{
	struct ptsb_file *pf = filp->__ptsb;
	struct poll_reg *r;
	(void)p;
	ptsb_sched_lock();
	list_for_each_entry(r, &pf->polls, link)
		if (r->wq == wq) {
			ptsb_sched_unlock();
			return;
		}
	r = ptsb_os_malloc(sizeof *r);
	memset(r, 0, sizeof *r);
	r->wq = wq;
	r->entry.flags = WQ_FLAG_POLL;
	r->entry.private = filp;
	if (!wq->head.next)
		INIT_LIST_HEAD(&wq->head);
	list_add_tail(&r->entry.entry, &wq->head);
	list_add_tail(&r->link, &pf->polls);
	ptsb_sched_unlock();
}

void ptsb_file_drop_polls(struct file *f)
{
	struct ptsb_file *pf = f->__ptsb;
	struct poll_reg *r, *n;
	ptsb_sched_lock();
	list_for_each_entry_safe(r, n, &pf->polls, link) {
		list_del(&r->entry.entry);
		list_del(&r->link);
		ptsb_os_free(r);
	}
	ptsb_sched_unlock();
}

/* -- parameters ------------------------------------------------------------ */

static int set_param(const struct __ptsb_param *p, const char *val)
{
	const char *t = p->type;
	long long v;
	unsigned long long u;
	if (!strcmp(t, "charp")) {
		*(char **)p->value = kstrdup(val, GFP_KERNEL);
		return 0;
	}
	if (!strcmp(t, "string")) {
		if (strlen(val) + 1 > p->size)
			return -ENOSPC;
		strscpy(p->value, val, p->size);
		return 0;
	}
	if (!strcmp(t, "bool") || !strcmp(t, "invbool")) {
		bool b;
		if (kstrtobool(val, &b))
			return -EINVAL;
		if (!strcmp(t, "invbool"))
			b = !b;
		if (p->size == sizeof(int))
			*(int *)p->value = b;
		else
			*(bool *)p->value = b;
		return 0;
	}
	if (!strcmp(t, "int") || !strcmp(t, "long") || !strcmp(t, "short")) {
		if (kstrtoll(val, 0, &v))
			return -EINVAL;
		if (!strcmp(t, "int"))
			*(int *)p->value = (int)v;
		else if (!strcmp(t, "long"))
			*(long *)p->value = (long)v;
		else
			*(short *)p->value = (short)v;
		return 0;
	}
	if (!strcmp(t, "uint") || !strcmp(t, "ulong") || !strcmp(t, "ushort") ||
	    !strcmp(t, "byte") || !strcmp(t, "hexint") || !strcmp(t, "ullong")) {
		if (kstrtoull(val, 0, &u))
			return -EINVAL;
		if (!strcmp(t, "uint") || !strcmp(t, "hexint"))
			*(unsigned int *)p->value = (unsigned int)u;
		else if (!strcmp(t, "ulong") || !strcmp(t, "ullong"))
			*(unsigned long *)p->value = (unsigned long)u;
		else if (!strcmp(t, "ushort"))
			*(unsigned short *)p->value = (unsigned short)u;
		else
			*(unsigned char *)p->value = (unsigned char)u;
		return 0;
	}
	return -EINVAL;
}

static int parse_args(const char *payload, unsigned int len)
{
	const char *p = payload, *end = payload + len;
	for (; p < end && *p; p += strlen(p) + 1) {
		const struct __ptsb_param *q;
		char name[64];
		const char *eq = strchr(p, '=');
		const char *val = eq ? eq + 1 : "";
		size_t n = eq ? (size_t)(eq - p) : strlen(p);
		int found = 0;
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, p, n);
		name[n] = 0;
		if (!strcmp(name, "__name")) {
			strscpy(__this_module.name, val, sizeof __this_module.name);
			continue;
		}
		for (q = __start_ptsb_params; q && q < __stop_ptsb_params; q++) {
			if (strcmp(q->name, name))
				continue;
			found = 1;
			if (set_param(q, val)) {
				printk(KERN_ERR "%s: `%s' invalid for parameter `%s'\n", __this_module.name, val, name);
				return -EINVAL;
			}
		}
		if (!found)
			printk(KERN_WARNING "%s: unknown parameter '%s' ignored\n", __this_module.name, name);
	}
	return 0;
}

/* -- the operations --------------------------------------------------------- */

long do_init_module(const char *payload, unsigned int len)
{
	struct ptsb_task *t = ptsb_self();
	int ret = parse_args(payload, len);
	if (ret)
		return ret;
	if (!init_module)
		return 0;
	t->in_module = 1;
	ret = init_module();
	t->in_module = 0;
	if (ret > 0) {
		printk(KERN_WARNING "%s: init suspiciously returned %d, it should follow 0/-E convention\n",
		       __this_module.name, ret);
		ret = 0;
	}
	return ret;
}

long delete_module(void)
{
	struct ptsb_task *t = ptsb_self();
	if (init_module && !cleanup_module)
		return -EBUSY; /* a module with an init and no exit cannot be unloaded */
	if (module_refcount(THIS_MODULE) > 0)
		return -EBUSY;
	if (cleanup_module) {
		t->in_module = 1;
		cleanup_module();
		t->in_module = 0;
	}
	ptsb_kmemleak_scan();
	return 0;
}

long chrdev_open(const struct ptsb_req *req, unsigned long long *file_out)
{
	struct ptsb_task *t = ptsb_self();
	void *misc = NULL;
	unsigned major = (unsigned)req->a0, minor = (unsigned)req->a1;
	const struct file_operations *fops = ptsb_find_fops(major, minor, &misc);
	struct ptsb_file *pf;
	struct file *f;
	int ret = 0;
	if (!fops)
		return -ENXIO;
	pf = ptsb_os_malloc(sizeof *pf);
	memset(pf, 0, sizeof *pf);
	INIT_LIST_HEAD(&pf->polls);
	f = &pf->file;
	f->__ptsb = pf;
	f->f_inode = inode_for((unsigned long)req->a2, MKDEV(major, minor));
	pf->dentry.d_inode = f->f_inode;
	pf->dentry.d_name.name = (const unsigned char *)"";
	f->f_path.dentry = &pf->dentry;
	f->f_op = fops;
	f->f_flags = req->f_flags;
	f->f_mode = FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	if ((req->f_flags & O_ACCMODE) == O_RDONLY || (req->f_flags & O_ACCMODE) == O_RDWR)
		f->f_mode |= FMODE_READ;
	if ((req->f_flags & O_ACCMODE) == O_WRONLY || (req->f_flags & O_ACCMODE) == O_RDWR)
		f->f_mode |= FMODE_WRITE;
	atomic64_set(&f->f_count, 1);
	if (misc)
		f->private_data = misc; /* misc_open does this before the driver's open */
	if (fops->owner)
		try_module_get(fops->owner);
	if (fops->open) {
		t->in_module = 1;
		ret = fops->open(f->f_inode, f);
		t->in_module = 0;
	}
	if (ret) {
		if (fops->owner)
			module_put(fops->owner);
		ptsb_file_drop_polls(f);
		ptsb_os_free(pf);
		return ret;
	}
	*file_out = (unsigned long long)(unsigned long)f;
	return 0;
}

long vfs_read(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, long long *pos)
{
	loff_t p = req->pos;
	long ret;
	char __user *buf = (char __user *)ptsb_user_encode(t, (unsigned long)req->a0, 0);
	if (!f->f_op->read)
		return -EINVAL;
	f->f_pos = req->pos;
	t->in_module = 1;
	ret = f->f_op->read(f, buf, (size_t)req->a1, &p);
	t->in_module = 0;
	*pos = p;
	return ret;
}

long vfs_write(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, long long *pos)
{
	loff_t p = req->pos;
	long ret;
	const char __user *buf = (const char __user *)ptsb_user_encode(t, (unsigned long)req->a0, 0);
	if (!f->f_op->write)
		return -EINVAL;
	f->f_pos = req->pos;
	t->in_module = 1;
	ret = f->f_op->write(f, buf, (size_t)req->a1, &p);
	t->in_module = 0;
	*pos = p;
	return ret;
}

long vfs_ioctl(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, int compat)
{
	long (*fn)(struct file *, unsigned int, unsigned long) =
		compat ? f->f_op->compat_ioctl : f->f_op->unlocked_ioctl;
	unsigned long arg = ptsb_user_encode(t, (unsigned long)req->a1, 1);
	long ret;
	if (!fn)
		return -ENOTTY;
	f->f_pos = req->pos;
	t->in_module = 1;
	ret = fn(f, (unsigned int)req->a0, arg);
	t->in_module = 0;
	return ret == -ENOIOCTLCMD ? -ENOTTY : ret;
}

long vfs_llseek(struct ptsb_task *t, struct file *f, const struct ptsb_req *req, long long *pos)
{
	long ret;
	if (!(f->f_mode & FMODE_LSEEK) || !f->f_op->llseek)
		return -ESPIPE;
	f->f_pos = req->pos;
	t->in_module = 1;
	ret = (long)f->f_op->llseek(f, (loff_t)req->a0, (int)req->a1);
	t->in_module = 0;
	*pos = f->f_pos;
	return ret;
}

long vfs_poll(struct ptsb_task *t, struct file *f)
{
	poll_table pt = { f };
	long ret;
	if (!f->f_op->poll)
		return DEFAULT_POLLMASK;
	t->in_module = 1;
	ret = (long)f->f_op->poll(f, &pt);
	t->in_module = 0;
	return ret;
}

long __fput(struct ptsb_task *t, struct file *f)
{
	const struct file_operations *fops = f->f_op;
	/* poll registrations go first: release may free the queues they sit on */
	ptsb_file_drop_polls(f);
	if (fops->release) {
		t->in_module = 1;
		fops->release(f->f_inode, f);
		t->in_module = 0;
	}
	if (fops->owner)
		module_put(fops->owner);
	ptsb_os_free(f->__ptsb);
	return 0;
}

long long ptsb_vfs_call(struct ptsb_task *t, const struct ptsb_req *req, const char *payload,
			long long *pos, unsigned long long *file_out)
{
	struct file *f = (struct file *)(unsigned long)req->file;
	switch (req->op) {
	case OP_LOAD: return do_init_module(payload, req->len);
	case OP_UNLOAD: return delete_module();
	case OP_OPEN: return chrdev_open(req, file_out);
	case OP_READ: return vfs_read(t, f, req, pos);
	case OP_WRITE: return vfs_write(t, f, req, pos);
	case OP_IOCTL: return vfs_ioctl(t, f, req, 0);
	case OP_COMPAT_IOCTL: return vfs_ioctl(t, f, req, 1);
	case OP_LLSEEK: return vfs_llseek(t, f, req, pos);
	case OP_POLL: return vfs_poll(t, f);
	case OP_RELEASE: return __fput(t, f);
	}
	return -EINVAL;
}

void ptsb_runtime_init(int zero_alloc, long hung_timeout_ms)
{
	ptsb_sched_init(hung_timeout_ms);
	ptsb_mem_init(zero_alloc);
	ptsb_uaccess_init();
	ptsb_report_init();
}
