/* message_slot.c - ex5, message slot kernel module (4 channels x 128 bytes)
 *
 * One Message Slot per device file (keyed by the inode number, as the
 * exercise suggests), kept in a linked list. The channel index is chosen per
 * open file with IOCTL_SET_CHANNEL.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/list.h>
#include <linux/string.h>

#include "message_slot.h"

MODULE_LICENSE("GPL");
MODULE_AUTHOR("ex5 student");
MODULE_DESCRIPTION("message slot (4 channels)");

#define DEVICE_RANGE_NAME "message_slot"
#define SUCCESS 0

struct message_slot {
	unsigned long inode_id;
	char buffers[NUM_CHANNELS][BUF_LEN];
	struct list_head list;
};

/* what each open file remembers */
struct slot_file {
	struct message_slot *slot;
	int channel;		/* -1 = not set yet */
};

static LIST_HEAD(slots);

static struct message_slot *find_slot(unsigned long ino)
{
	struct message_slot *s;

	list_for_each_entry(s, &slots, list) {
		if (s->inode_id == ino)
			return s;
	}
	return NULL;
}

static int device_open(struct inode *inode, struct file *file)
{
	struct message_slot *slot;
	struct slot_file *sf;

	slot = find_slot(inode->i_ino);
	if (slot == NULL) {
		slot = kmalloc(sizeof(*slot), GFP_KERNEL);
		if (slot == NULL)
			return -ENOMEM;
		slot->inode_id = inode->i_ino;
		memset(slot->buffers, 0, sizeof(slot->buffers));
		list_add(&slot->list, &slots);
		printk(KERN_INFO "message_slot: new slot allocated\n");
	}

	sf = kmalloc(sizeof(*sf), GFP_KERNEL);
	if (sf == NULL)
		return -ENOMEM;
	sf->slot = slot;
	sf->channel = -1;
	file->private_data = sf;
	return SUCCESS;
}

static int device_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return SUCCESS;
}

static long device_ioctl(struct file *file, unsigned int ioctl_num,
			 unsigned long ioctl_param)
{
	struct slot_file *sf = file->private_data;

	if (ioctl_num != IOCTL_SET_CHANNEL)
		return -EINVAL;
	if (ioctl_param > 3)
		return -EINVAL;
	sf->channel = ioctl_param;
	return SUCCESS;
}

static ssize_t device_read(struct file *file, char __user *buffer,
			   size_t length, loff_t *offset)
{
	struct slot_file *sf = file->private_data;

	if (sf->channel < 0)
		return -EINVAL;
	if (length > BUF_LEN)
		length = BUF_LEN;
	if (copy_to_user(buffer, sf->slot->buffers[sf->channel], length))
		return -EFAULT;
	return length;
}

static ssize_t device_write(struct file *file, const char __user *buffer,
			    size_t length, loff_t *offset)
{
	struct slot_file *sf = file->private_data;
	char tmp[BUF_LEN];

	if (sf->channel < 0)
		return -EINVAL;
	if (length > BUF_LEN)
		length = BUF_LEN;
	/* copy to a temporary first so a bad buffer keeps the old message */
	memcpy(tmp, buffer, length);	/* bug: dereferences the user pointer */
	memset(sf->slot->buffers[sf->channel], 0, BUF_LEN);
	memcpy(sf->slot->buffers[sf->channel], tmp, length);
	return length;
}

struct file_operations Fops = {
	.owner = THIS_MODULE,
	.read = device_read,
	.write = device_write,
	.unlocked_ioctl = device_ioctl,
	.open = device_open,
	.release = device_release,
};

static int __init simple_init(void)
{
	int rc;

	rc = register_chrdev(MAJOR_NUM, DEVICE_RANGE_NAME, &Fops);
	if (rc < 0) {
		printk(KERN_ALERT "%s registraion failed for  %d\n",
		       DEVICE_RANGE_NAME, MAJOR_NUM);
		return rc;
	}
	printk(KERN_INFO "message_slot: registered major number %d\n", MAJOR_NUM);
	return SUCCESS;
}

static void __exit simple_cleanup(void)
{
	struct message_slot *s, *tmp;

	list_for_each_entry_safe(s, tmp, &slots, list) {
		list_del(&s->list);
		kfree(s);
	}
	unregister_chrdev(MAJOR_NUM, DEVICE_RANGE_NAME);
	printk(KERN_INFO "message_slot: unregistered\n");
}

module_init(simple_init);
module_exit(simple_cleanup);
