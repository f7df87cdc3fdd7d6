/* Device classes and device_create: a node /dev/NAME appears as udev would make it. */
#ifndef _PTSB_LINUX_DEVICE_H
#define _PTSB_LINUX_DEVICE_H
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/kdev_t.h>
#include <linux/err.h>
#include <linux/list.h>
struct module;
struct device;
struct class {
	const char *name;
	struct module *owner;
	char *(*devnode)(struct device *dev, umode_t *mode);
	struct list_head __ptsb_devices;
};
struct device {
	struct device *parent;
	struct class *class;
	dev_t devt;
	void *driver_data;
	char name[64];
	struct list_head __ptsb_node;
};
struct class *__ptsb_class_create(struct module *owner, const char *name);
/* class_create(owner, name) before 6.4, class_create(name) since: both accepted */
#define __ptsb_class_create1(name) __ptsb_class_create(NULL, name)
#define __ptsb_class_create2(owner, name) __ptsb_class_create(owner, name)
#define __ptsb_class_pick(_1, _2, fn, ...) fn
#define class_create(...) __ptsb_class_pick(__VA_ARGS__, __ptsb_class_create2, __ptsb_class_create1, )(__VA_ARGS__)
void class_destroy(struct class *cls);
void class_unregister(struct class *cls);
struct device *device_create(struct class *cls, struct device *parent, dev_t devt, void *drvdata,
			     const char *fmt, ...) __printf(5, 6);
void device_destroy(struct class *cls, dev_t devt);
static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }
static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }
static inline const char *dev_name(const struct device *dev) { return dev->name; }
#define dev_info(dev, fmt, ...) printk(KERN_INFO "%s: " fmt, dev_name(dev), ##__VA_ARGS__)
#define dev_err(dev, fmt, ...) printk(KERN_ERR "%s: " fmt, dev_name(dev), ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) printk(KERN_WARNING "%s: " fmt, dev_name(dev), ##__VA_ARGS__)
#define dev_notice(dev, fmt, ...) printk(KERN_NOTICE "%s: " fmt, dev_name(dev), ##__VA_ARGS__)
#define dev_dbg(dev, fmt, ...) ({ if (0) printk(KERN_DEBUG "%s: " fmt, dev_name(dev), ##__VA_ARGS__); })
#endif
