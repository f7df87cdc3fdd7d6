/* Character-device registration (register_chrdev, chrdev regions, cdev,
 * misc), device classes with device_create (nodes as udev makes them), the
 * module's reference count, and the llseek helpers. The supervisor learns of
 * each major and node by a message. */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ptsb.h"
#include "rt.h"

#define MAX_REGIONS 64

struct region {
	unsigned int major, baseminor, count;
	char name[64];
	const struct file_operations *fops; /* register_chrdev's */
	struct cdev *cdev;
	int used;
};

static struct region regions[MAX_REGIONS];
static struct miscdevice *miscs[256];
static unsigned char dyn_majors[512];

static void tell_chrdev(unsigned major, int on, const char *name)
{
	ptsb_send(MSG_CHRDEV, 0, 0, 0, 0, major, (unsigned)on, name, (unsigned)strlen(name));
}

static void tell_node(const char *name, unsigned major, unsigned minor, int mode)
{
	char path[128];
	snprintf(path, sizeof path, "/dev/%s", name);
	ptsb_send(MSG_NODE, 0, mode, 0, 0, major, minor, path, (unsigned)strlen(path));
}

static int region_busy(unsigned major, unsigned base, unsigned count)
{
	int i;
	for (i = 0; i < MAX_REGIONS; i++) {
		struct region *r = &regions[i];
		if (r->used && r->major == major && base < r->baseminor + r->count &&
		    r->baseminor < base + count)
			return 1;
	}
	return 0;
}

static int any_region(unsigned major)
{
	int i;
	for (i = 0; i < MAX_REGIONS; i++)
		if (regions[i].used && regions[i].major == major)
			return 1;
	return 0;
}

/* dynamic majors come from 254 down to 234, then 511 down to 384, as in the kernel */
static int pick_major(void)
{
	int m;
	for (m = 254; m >= 234; m--)
		if (!any_region((unsigned)m) && !dyn_majors[m])
			return m;
	for (m = 511; m >= 384; m--)
		if (!any_region((unsigned)m))
			return m;
	return -EBUSY;
}

static struct region *add_region(unsigned major, unsigned base, unsigned count, const char *name)
{
	int i;
	int dynamic = major == 0;
	if (major >= CHRDEV_MAJOR_MAX)
		return ERR_PTR(-EINVAL);
	if (dynamic) {
		int m = pick_major();
		if (m < 0)
			return ERR_PTR(m);
		major = (unsigned)m;
	}
	if (region_busy(major, base, count))
		return ERR_PTR(-EBUSY);
	for (i = 0; i < MAX_REGIONS && regions[i].used; i++)
		;
	if (i == MAX_REGIONS)
		return ERR_PTR(-ENOMEM);
	regions[i].used = 1;
	regions[i].major = major;
	regions[i].baseminor = base;
	regions[i].count = count;
	regions[i].fops = NULL;
	regions[i].cdev = NULL;
	strscpy(regions[i].name, name ? name : "", sizeof regions[i].name);
	tell_chrdev(major, 1, regions[i].name);
	return &regions[i];
}

int __register_chrdev(unsigned int major, unsigned int baseminor, unsigned int count,
		      const char *name, const struct file_operations *fops)
{
	struct region *r = add_region(major, baseminor, count, name);
	if (IS_ERR(r))
		return (int)PTR_ERR(r);
	r->fops = fops;
	return major ? 0 : (int)r->major;
}

static void drop_region(unsigned major, unsigned base, unsigned count)
{
	int i;
	for (i = 0; i < MAX_REGIONS; i++) {
		struct region *r = &regions[i];
		if (r->used && r->major == major && r->baseminor == base && r->count == count) {
			r->used = 0;
			if (!any_region(major))
				tell_chrdev(major, 0, r->name);
			return;
		}
	}
}

void __unregister_chrdev(unsigned int major, unsigned int baseminor, unsigned int count, const char *name)
{
	(void)name;
	drop_region(major, baseminor, count);
}

int alloc_chrdev_region(dev_t *dev, unsigned baseminor, unsigned count, const char *name)
{
	struct region *r = add_region(0, baseminor, count, name);
	if (IS_ERR(r))
		return (int)PTR_ERR(r);
	*dev = MKDEV(r->major, baseminor);
	return 0;
}

int register_chrdev_region(dev_t from, unsigned count, const char *name)
{
	struct region *r = add_region(MAJOR(from), MINOR(from), count, name);
	return IS_ERR(r) ? (int)PTR_ERR(r) : 0;
}

void unregister_chrdev_region(dev_t from, unsigned count) { drop_region(MAJOR(from), MINOR(from), count); }

/* cdevs */
#define MAX_CDEVS 64
static struct cdev *cdevs[MAX_CDEVS];

void cdev_init(struct cdev *cdev, const struct file_operations *fops)
{
	memset(cdev, 0, sizeof *cdev);
	INIT_LIST_HEAD(&cdev->list);
	cdev->ops = fops;
}

struct cdev *cdev_alloc(void)
{
	struct cdev *c = kzalloc(sizeof *c, GFP_KERNEL);
	if (c) {
		INIT_LIST_HEAD(&c->list);
		c->__ptsb_allocated = 1;
	}
	return c;
}

int cdev_add(struct cdev *cdev, dev_t dev, unsigned count)
{
	int i;
	cdev->dev = dev;
	cdev->count = count;
	for (i = 0; i < MAX_CDEVS; i++)
		if (!cdevs[i]) {
			cdevs[i] = cdev;
			cdev->__ptsb_added = 1;
			return 0;
		}
	return -ENOMEM;
}

void cdev_del(struct cdev *cdev)
{
	int i;
	for (i = 0; i < MAX_CDEVS; i++)
		if (cdevs[i] == cdev)
			cdevs[i] = NULL;
	if (cdev->__ptsb_allocated)
		kfree(cdev);
}

/* misc devices: major 10, a node /dev/NAME */
int misc_register(struct miscdevice *misc)
{
	int minor = misc->minor;
	if (minor == MISC_DYNAMIC_MINOR) {
		for (minor = 127; minor >= 0 && miscs[minor]; minor--)
			;
		if (minor < 0)
			return -EBUSY;
		misc->minor = minor;
	} else if (minor < 0 || minor > 255) {
		return -EINVAL;
	} else if (miscs[minor]) {
		return -EBUSY;
	}
	miscs[minor] = misc;
	INIT_LIST_HEAD(&misc->list);
	tell_node(misc->nodename ? misc->nodename : misc->name, MISC_MAJOR, (unsigned)minor,
		  misc->mode ? misc->mode : 0666);
	return 0;
}

void misc_deregister(struct miscdevice *misc)
{
	if (misc->minor >= 0 && misc->minor < 256 && miscs[misc->minor] == misc) {
		miscs[misc->minor] = NULL;
		tell_node(misc->nodename ? misc->nodename : misc->name, MISC_MAJOR,
			  (unsigned)misc->minor, 0);
	}
}

const struct file_operations *ptsb_find_fops(unsigned major, unsigned minor, void **misc)
{
	int i;
	*misc = NULL;
	if (major == MISC_MAJOR && minor < 256 && miscs[minor]) {
		*misc = miscs[minor];
		return miscs[minor]->fops;
	}
	for (i = 0; i < MAX_CDEVS; i++) {
		struct cdev *c = cdevs[i];
		if (c && MAJOR(c->dev) == major && minor >= MINOR(c->dev) && minor < MINOR(c->dev) + c->count)
			return c->ops;
	}
	for (i = 0; i < MAX_REGIONS; i++) {
		struct region *r = &regions[i];
		if (r->used && r->fops && r->major == major && minor >= r->baseminor &&
		    minor < r->baseminor + r->count)
			return r->fops;
	}
	return NULL;
}

/* classes and devices */
struct class *__ptsb_class_create(struct module *owner, const char *name)
{
	struct class *c = kzalloc(sizeof *c, GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->name = name;
	c->owner = owner;
	INIT_LIST_HEAD(&c->__ptsb_devices);
	return c;
}

struct device *device_create(struct class *cls, struct device *parent, dev_t devt, void *drvdata,
			     const char *fmt, ...)
{
	struct device *d;
	va_list ap;
	umode_t mode = 0666;
	if (IS_ERR_OR_NULL(cls))
		return ERR_PTR(-ENODEV);
	d = kzalloc(sizeof *d, GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	va_start(ap, fmt);
	vsnprintf(d->name, sizeof d->name, fmt, ap);
	va_end(ap);
	d->parent = parent;
	d->class = cls;
	d->devt = devt;
	d->driver_data = drvdata;
	list_add_tail(&d->__ptsb_node, &cls->__ptsb_devices);
	if (cls->devnode) {
		char *name = cls->devnode(d, &mode);
		if (name) {
			strscpy(d->name, name, sizeof d->name);
			kfree(name);
		}
		if (!mode)
			mode = 0600;
	}
	if (MAJOR(devt))
		tell_node(d->name, MAJOR(devt), MINOR(devt), mode);
	return d;
}

void device_destroy(struct class *cls, dev_t devt)
{
	struct device *d, *n;
	if (IS_ERR_OR_NULL(cls))
		return;
	list_for_each_entry_safe(d, n, &cls->__ptsb_devices, __ptsb_node) {
		if (d->devt == devt) {
			list_del(&d->__ptsb_node);
			if (MAJOR(devt))
				tell_node(d->name, MAJOR(devt), MINOR(devt), 0);
			kfree(d);
			return;
		}
	}
}

void class_destroy(struct class *cls)
{
	struct device *d, *n;
	if (IS_ERR_OR_NULL(cls))
		return;
	list_for_each_entry_safe(d, n, &cls->__ptsb_devices, __ptsb_node) {
		list_del(&d->__ptsb_node);
		if (MAJOR(d->devt))
			tell_node(d->name, MAJOR(d->devt), MINOR(d->devt), 0);
		kfree(d);
	}
	kfree(cls);
}

void class_unregister(struct class *cls) { (void)cls; /* class_destroy frees it */ }

/* the module and its references */
struct module __this_module = { .name = "module" };

bool try_module_get(struct module *m)
{
	if (m)
		atomic_inc(&m->refcnt);
	return true;
}

void __module_get(struct module *m) { try_module_get(m); }

void module_put(struct module *m)
{
	if (m)
		atomic_dec(&m->refcnt);
}

int module_refcount(struct module *m) { return atomic_read(&m->refcnt); }
int ptsb_module_refcount(void) { return atomic_read(&__this_module.refcnt); }

/* llseek helpers */
loff_t no_llseek(struct file *file, loff_t offset, int whence) { (void)file; (void)offset; (void)whence; return -ESPIPE; }
loff_t noop_llseek(struct file *file, loff_t offset, int whence) { (void)offset; (void)whence; return file->f_pos; }

loff_t fixed_size_llseek(struct file *file, loff_t offset, int whence, loff_t size)
{
	loff_t pos;
	switch (whence) {
	case SEEK_SET: pos = offset; break;
	case SEEK_CUR: pos = file->f_pos + offset; break;
	case SEEK_END: pos = size + offset; break;
	default: return -EINVAL;
	}
	if (pos < 0 || pos > size)
		return -EINVAL;
	file->f_pos = pos;
	return pos;
}

loff_t default_llseek(struct file *file, loff_t offset, int whence)
{
	loff_t pos;
	switch (whence) {
	case SEEK_SET: pos = offset; break;
	case SEEK_CUR: pos = file->f_pos + offset; break;
	case SEEK_END: pos = file->f_inode->i_size + offset; break;
	default: return -EINVAL;
	}
	if (pos < 0)
		return -EINVAL;
	file->f_pos = pos;
	return pos;
}

loff_t generic_file_llseek(struct file *file, loff_t offset, int whence) { return default_llseek(file, offset, whence); }

int nonseekable_open(struct inode *inode, struct file *filp)
{
	(void)inode;
	filp->f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
	return 0;
}

int stream_open(struct inode *inode, struct file *filp)
{
	(void)inode;
	filp->f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE | FMODE_ATOMIC_POS);
	filp->f_mode |= FMODE_STREAM;
	return 0;
}

int simple_open(struct inode *inode, struct file *file)
{
	if (inode->i_private)
		file->private_data = inode->i_private;
	return 0;
}

ssize_t simple_read_from_buffer(void __user *to, size_t count, loff_t *ppos, const void *from, size_t available)
{
	loff_t pos = *ppos;
	size_t ret;
	if (pos < 0)
		return -EINVAL;
	if ((size_t)pos >= available || !count)
		return 0;
	if (count > available - (size_t)pos)
		count = available - (size_t)pos;
	ret = copy_to_user(to, (const char *)from + pos, count);
	if (ret == count)
		return -EFAULT;
	count -= ret;
	*ppos = pos + (loff_t)count;
	return (ssize_t)count;
}

ssize_t simple_write_to_buffer(void *to, size_t available, loff_t *ppos, const void __user *from, size_t count)
{
	loff_t pos = *ppos;
	size_t res;
	if (pos < 0)
		return -EINVAL;
	if ((size_t)pos >= available || !count)
		return 0;
	if (count > available - (size_t)pos)
		count = available - (size_t)pos;
	res = copy_from_user((char *)to + pos, from, count);
	if (res == count)
		return -EFAULT;
	count -= res;
	*ppos = pos + (loff_t)count;
	return (ssize_t)count;
}
