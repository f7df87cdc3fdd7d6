/* message_slot - OS course assignment. Each device file (minor) is a slot with
 * 4 channels of 128 bytes; ioctl picks the channel of the open file. */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "message_slot.h"

MODULE_LICENSE("GPL");

struct slot {
	int minor;
	char msg[NUM_CHANNELS][BUF_LEN];
	struct slot *next;
};

static struct slot *slots = NULL;

static struct slot *get_slot(int minor)
{
	struct slot *s;
	for (s = slots; s != NULL; s = s->next)
		if (s->minor == minor)
			return s;
	s = kmalloc(sizeof(struct slot), GFP_KERNEL);
	if (s == NULL)
		return NULL;
	memset(s->msg, 0, sizeof(s->msg));
	s->minor = minor;
	s->next = slots;
	slots = s;
	return s;
}

static int device_open(struct inode *inode, struct file *file)
{
	struct slot *s = get_slot(iminor(inode));
	if (s == NULL)
		return -ENOMEM;
	file->private_data = (void *)-1L; /* no channel yet */
	printk(KERN_INFO "message_slot: open minor %d\n", iminor(inode));
	return 0;
}

static long device_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd != IOCTL_SET_CHANNEL || arg >= NUM_CHANNELS)
		return -EINVAL;
	file->private_data = (void *)arg;
	return 0;
}

static ssize_t device_write(struct file *file, const char __user *buf, size_t len, loff_t *off)
{
	long ch = (long)file->private_data;
	struct slot *s = get_slot(iminor(file_inode(file)));
	char tmp[BUF_LEN];
	if (ch < 0)
		return -EINVAL;
	if (len > BUF_LEN)
		len = BUF_LEN;
	memset(tmp, 0, BUF_LEN);
	if (copy_from_user(tmp, buf, len))
		return -EFAULT;
	memcpy(s->msg[ch], tmp, BUF_LEN);
	return len;
}

static ssize_t device_read(struct file *file, char __user *buf, size_t len, loff_t *off)
{
	long ch = (long)file->private_data;
	struct slot *s = get_slot(iminor(file_inode(file)));
	if (ch < 0)
		return -EINVAL;
	if (len > BUF_LEN)
		len = BUF_LEN;
	if (copy_to_user(buf, s->msg[ch], len))
		return -EFAULT;
	return len;
}

static struct file_operations fops = {
	.owner = THIS_MODULE,
	.open = device_open,
	.read = device_read,
	.write = device_write,
	.unlocked_ioctl = device_ioctl,
};

static int __init slot_init(void)
{
	int rc = register_chrdev(MAJOR_NUM, "message_slot", &fops);
	if (rc < 0) {
		printk(KERN_ALERT "message_slot: register_chrdev failed %d\n", rc);
		return rc;
	}
	printk(KERN_INFO "message_slot: registered major %d\n", MAJOR_NUM);
	return 0;
}

static void __exit slot_exit(void)
{
	struct slot *s = slots, *n;
	while (s) {
		n = s->next;
		kfree(s);
		s = n;
	}
	unregister_chrdev(MAJOR_NUM, "message_slot");
}

module_init(slot_init);
module_exit(slot_exit);
