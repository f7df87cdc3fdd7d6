/* recfifo - every write is one record in a kfifo of 64 bytes (1-byte length
 * headers); a read takes the oldest record (cut to the reader's buffer).
 * /dev/recfifo (misc). */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/kfifo.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/ioctl.h>

MODULE_LICENSE("GPL");

static struct kfifo_rec_ptr_1 fifo;
static DEFINE_SPINLOCK(fifo_lock);

static ssize_t recfifo_write(struct file *f, const char __user *buf, size_t n, loff_t *off)
{
	char *tmp;
	unsigned int done;
	if (n > 255)
		return -EMSGSIZE;
	tmp = kmalloc(n + 1, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	if (copy_from_user(tmp, buf, n)) {
		kfree(tmp);
		return -EFAULT;
	}
	done = kfifo_in_spinlocked(&fifo, tmp, n, &fifo_lock);
	kfree(tmp);
	return done;
}

static ssize_t recfifo_read(struct file *f, char __user *buf, size_t n, loff_t *off)
{
	char tmp[256];
	unsigned int got;
	if (n > sizeof(tmp))
		n = sizeof(tmp);
	got = kfifo_out_spinlocked(&fifo, tmp, n, &fifo_lock);
	if (copy_to_user(buf, tmp, got))
		return -EFAULT;
	return got;
}

static long recfifo_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	/* _IO('f', 0): bytes used (with headers), 1: the next record's length, 2: empty it */
	if (cmd == _IO('f', 0))
		return kfifo_len(&fifo);
	if (cmd == _IO('f', 1))
		return kfifo_peek_len(&fifo);
	if (cmd == _IO('f', 2)) {
		kfifo_reset(&fifo);
		return 0;
	}
	return -ENOTTY;
}

static const struct file_operations recfifo_fops = {
	.owner = THIS_MODULE,
	.read = recfifo_read,
	.write = recfifo_write,
	.unlocked_ioctl = recfifo_ioctl,
};

static struct miscdevice recfifo_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "recfifo",
	.fops = &recfifo_fops,
};

static int __init recfifo_init(void)
{
	int ret = kfifo_alloc(&fifo, 64, GFP_KERNEL);
	if (ret)
		return ret;
	ret = misc_register(&recfifo_dev);
	if (ret)
		kfifo_free(&fifo);
	return ret;
}

static void __exit recfifo_exit(void)
{
	misc_deregister(&recfifo_dev);
	kfifo_free(&fifo);
}

module_init(recfifo_init);
module_exit(recfifo_exit);
