/* kgate - opening for reading waits until something has been written. A misc
 * device (/dev/kgate). Lab 4, part 2. */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/wait.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

MODULE_LICENSE("GPL");
MODULE_AUTHOR("student");

static char last[64];
static int last_len = 0;
static DECLARE_WAIT_QUEUE_HEAD(gate);

static int kgate_open(struct inode *inode, struct file *f)
{
	if ((f->f_flags & O_ACCMODE) == O_RDONLY) {
		printk(KERN_INFO "kgate: %s waits for a writer\n", current->comm);
		if (wait_event_interruptible(gate, last_len > 0))
			return -ERESTARTSYS;
		printk(KERN_INFO "kgate: %s got in\n", current->comm);
	}
	return 0;
}

static ssize_t kgate_read(struct file *f, char __user *buf, size_t n, loff_t *off)
{
	if (n > last_len)
		n = last_len;
	if (copy_to_user(buf, last, n))
		return -EFAULT;
	return n;
}

static ssize_t kgate_write(struct file *f, const char __user *buf, size_t n, loff_t *off)
{
	if (n > sizeof(last))
		n = sizeof(last);
	if (copy_from_user(last, buf, n))
		return -EFAULT;
	last_len = n;
	wake_up_interruptible(&gate);
	return n;
}

static const struct file_operations kgate_fops = {
	.owner = THIS_MODULE,
	.open = kgate_open,
	.read = kgate_read,
	.write = kgate_write,
};

static struct miscdevice kgate_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kgate",
	.fops = &kgate_fops,
};

static int __init kgate_init(void)
{
	return misc_register(&kgate_dev);
}

static void __exit kgate_exit(void)
{
	misc_deregister(&kgate_dev);
}

module_init(kgate_init);
module_exit(kgate_exit);
