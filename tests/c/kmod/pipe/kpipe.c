/* kpipe - a one-message mailbox: read sleeps until somebody writes. A misc
 * device (/dev/kpipe). Lab 4. */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/wait.h>
#include <linux/sched.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>

MODULE_LICENSE("GPL");
MODULE_AUTHOR("student");

static char message[256];
static int length = 0;
static DECLARE_WAIT_QUEUE_HEAD(readers);
static DEFINE_MUTEX(lock);

static ssize_t kpipe_read(struct file *f, char __user *buf, size_t n, loff_t *off)
{
	int ret;
	if (length == 0 && (f->f_flags & O_NONBLOCK))
		return -EAGAIN;
	ret = wait_event_interruptible(readers, length > 0);
	if (ret)
		return ret; /* -ERESTARTSYS: a signal */
	mutex_lock(&lock);
	if (n > length)
		n = length;
	if (copy_to_user(buf, message, n)) {
		mutex_unlock(&lock);
		return -EFAULT;
	}
	length = 0;
	mutex_unlock(&lock);
	printk(KERN_INFO "kpipe: %s (%d) read %zu bytes\n", current->comm, current->pid, n);
	return n;
}

static ssize_t kpipe_write(struct file *f, const char __user *buf, size_t n, loff_t *off)
{
	if (n > sizeof(message))
		n = sizeof(message);
	mutex_lock(&lock);
	if (copy_from_user(message, buf, n)) {
		mutex_unlock(&lock);
		return -EFAULT;
	}
	length = n;
	mutex_unlock(&lock);
	wake_up_interruptible(&readers);
	return n;
}

static const struct file_operations kpipe_fops = {
	.owner = THIS_MODULE,
	.read = kpipe_read,
	.write = kpipe_write,
	.llseek = no_llseek,
};

static struct miscdevice kpipe_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kpipe",
	.fops = &kpipe_fops,
};

static int __init kpipe_init(void)
{
	return misc_register(&kpipe_dev);
}

static void __exit kpipe_exit(void)
{
	misc_deregister(&kpipe_dev);
}

module_init(kpipe_init);
module_exit(kpipe_exit);
