#ifndef _PTSB_LINUX_CDEV_H
#define _PTSB_LINUX_CDEV_H
#include <linux/types.h>
#include <linux/list.h>
#include <linux/kdev_t.h>
struct file_operations;
struct module;
struct cdev {
	struct module *owner;
	const struct file_operations *ops;
	struct list_head list;
	dev_t dev;
	unsigned int count;
	int __ptsb_added;
	int __ptsb_allocated;
};
void cdev_init(struct cdev *cdev, const struct file_operations *fops);
struct cdev *cdev_alloc(void);
int cdev_add(struct cdev *cdev, dev_t dev, unsigned count);
void cdev_del(struct cdev *cdev);
#endif
