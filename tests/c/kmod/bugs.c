/* bugs - one classic kernel-module bug per ioctl command, for the report tests.
 * /dev/bugs (misc). ioctl(fd, _IO('b', N), arg). */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <linux/ioctl.h>
#include <linux/wait.h>

MODULE_LICENSE("GPL");

#define BUGS_MAGIC 'b'

struct node {
	int value;
	struct node *next;
};

static DEFINE_SPINLOCK(bugs_lock);
static DEFINE_MUTEX(bugs_mutex);
static DECLARE_WAIT_QUEUE_HEAD(never);
static int ready;
static char *saved;
static struct node *head;
static int limit = 8;
module_param(limit, int, 0644);


static long bugs_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	char *p;
	struct node *n = NULL;
	int i;

	switch (cmd) {
	case _IO(BUGS_MAGIC, 1): /* off by one: writes one past the buffer */
		p = kmalloc(limit, GFP_KERNEL);
		for (i = 0; i <= limit; i++)
			p[i] = 'x';
		kfree(p);
		return 0;
	case _IO(BUGS_MAGIC, 2): /* use after free */
		head = kmalloc(sizeof(struct node), GFP_KERNEL); /* uaf */
		head->value = 7;
		head->next = NULL;
		kfree(head); /* uaf */
		return head->value;
	case _IO(BUGS_MAGIC, 3): /* double free */
		p = kmalloc(16, GFP_KERNEL);
		kfree(p);
		kfree(p); /* again */
		return 0;
	case _IO(BUGS_MAGIC, 4): /* NULL dereference */
		return n->value;
	case _IO(BUGS_MAGIC, 5): /* dereferences the user pointer instead of copy_from_user */
		p = (char *)arg;
		return p[0];
	case _IO(BUGS_MAGIC, 6): /* GFP_KERNEL allocation under a spinlock */
		spin_lock(&bugs_lock);
		saved = kmalloc(32, GFP_KERNEL);
		spin_unlock(&bugs_lock);
		kfree(saved);
		return 0;
	case _IO(BUGS_MAGIC, 7): /* takes the spinlock twice */
		spin_lock(&bugs_lock);
		spin_lock(&bugs_lock); /* twice */
		spin_unlock(&bugs_lock);
		spin_unlock(&bugs_lock);
		return 0;
	case _IO(BUGS_MAGIC, 8): /* unlocks a mutex nobody holds */
		mutex_unlock(&bugs_mutex);
		return 0;
	case _IO(BUGS_MAGIC, 9): /* forgets to free */
		saved = kmalloc(48, GFP_KERNEL);
		strcpy(saved, "leaked");
		saved = NULL;
		return 0;
	case _IO(BUGS_MAGIC, 10): /* correct: copies from user space */
		if (get_user(i, (int __user *)arg))
			return -EFAULT;
		return i * 2;
	case _IO(BUGS_MAGIC, 11): /* waits uninterruptibly for something nobody does */
		wait_event(never, ready);
		return 0;
	}
	return -ENOTTY;
}

static const struct file_operations bugs_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = bugs_ioctl,
};

static struct miscdevice bugs_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "bugs",
	.fops = &bugs_fops,
};

static int __init bugs_init(void)
{
	printk(KERN_INFO "bugs: limit=%d\n", limit);
	return misc_register(&bugs_dev);
}

static void __exit bugs_exit(void)
{
	misc_deregister(&bugs_dev);
}

module_init(bugs_init);
module_exit(bugs_exit);
