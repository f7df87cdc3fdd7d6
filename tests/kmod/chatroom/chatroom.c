/*
 * chatroom.c - Assignment 3: a chat room character device (/dev/chatroom)
 *
 * Every open() is a member with its own kfifo of messages (a record fifo,
 * one record = one message). write() puts "NAME: text" into the fifo of
 * every other member; read() blocks until the caller's fifo has a message.
 * The name comes from the CHATROOM_IOC_SET_NAME ioctl (the pid until then).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/kfifo.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/poll.h>
#include <linux/sched.h>

#include "chatroom.h"

MODULE_LICENSE("GPL");
MODULE_AUTHOR("cs-student");
MODULE_DESCRIPTION("chatroom with a kfifo per member");

#define DEV_NAME "chatroom"
#define FIFO_SIZE 16384
#define CHAT_LINE_MAX (CHATROOM_MSG_MAX + CHATROOM_NAME_MAX + 2)

struct member {
	struct list_head list;
	char name[CHATROOM_NAME_MAX];
	int announced;
	struct kfifo_rec_ptr_2 fifo;
	spinlock_t fifo_lock;
	wait_queue_head_t wq;
};

static LIST_HEAD(members);
static DEFINE_SPINLOCK(members_lock);
static struct class *chat_class;
static int major;	/* dynamic: a fixed 240 may be taken */

/* put one message into everyone's fifo except the sender's */
static void send_to_others(struct member *from, char *msg, int len)
{
	struct member *m;

	spin_lock(&members_lock);
	list_for_each_entry(m, &members, list) {
		if (m == from)
			continue;
		if (kfifo_in_spinlocked(&m->fifo, msg, len, &m->fifo_lock) == 0)
			printk(KERN_ALERT "chatroom: fifo of %s is full, message dropped\n", m->name);
		wake_up_interruptible(&m->wq);
	}
	spin_unlock(&members_lock);
}

static void announce(struct member *me)
{
	char notice[CHATROOM_NAME_MAX + 20];
	int len;

	if (me->announced)
		return;
	me->announced = 1;
	len = snprintf(notice, sizeof(notice), "%s joined the room", me->name);
	send_to_others(me, notice, len);
}

static int chat_open(struct inode *inode, struct file *filp)
{
	struct member *me;
	int ret;

	me = kmalloc(sizeof(*me), GFP_KERNEL);
	if (!me)
		return -ENOMEM;
	ret = kfifo_alloc(&me->fifo, FIFO_SIZE, GFP_KERNEL);
	if (ret) {
		kfree(me);
		return ret;
	}
	spin_lock_init(&me->fifo_lock);
	init_waitqueue_head(&me->wq);
	snprintf(me->name, sizeof(me->name), "%d", current->tgid);
	me->announced = 0;

	spin_lock(&members_lock);
	list_add_tail(&me->list, &members);
	spin_unlock(&members_lock);

	filp->private_data = me;
	return 0;
}

static int chat_release(struct inode *inode, struct file *filp)
{
	struct member *me = filp->private_data;
	char notice[CHATROOM_NAME_MAX + 8];
	int len;

	spin_lock(&members_lock);
	list_del(&me->list);
	spin_unlock(&members_lock);

	if (me->announced) {
		len = snprintf(notice, sizeof(notice), "%s left", me->name);
		send_to_others(me, notice, len);
		printk(KERN_INFO "chatroom: %s left\n", me->name);
	}
	kfifo_free(&me->fifo);
	kfree(me);
	return 0;
}

static ssize_t chat_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos)
{
	struct member *me = filp->private_data;
	char *kbuf;
	unsigned int n;
	int ret;

	announce(me);

	if (kfifo_is_empty(&me->fifo)) {
		if (filp->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(me->wq, !kfifo_is_empty(&me->fifo)))
			return -ERESTARTSYS;
	}

	if (count > CHAT_LINE_MAX)
		count = CHAT_LINE_MAX;
	kbuf = kmalloc(CHAT_LINE_MAX, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	/* a record fifo gives at most count bytes of the next message and
	 * drops the rest of it */
	n = kfifo_out_spinlocked(&me->fifo, kbuf, count, &me->fifo_lock);
	ret = n;
	if (copy_to_user(buf, kbuf, n))
		ret = -EFAULT;
	kfree(kbuf);
	return ret;
}

static ssize_t chat_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos)
{
	struct member *me = filp->private_data;
	char *msg;
	int len;

	announce(me);

	if (count == 0)
		return 0;
	if (count > CHATROOM_MSG_MAX)
		return -EMSGSIZE;

	msg = kmalloc(CHAT_LINE_MAX, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	len = sprintf(msg, "%s: ", me->name);
	if (copy_from_user(msg + len, buf, count)) {
		kfree(msg);
		return -EFAULT;
	}
	send_to_others(me, msg, len + count);
	kfree(msg);
	return count;
}

static long chat_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct member *me = filp->private_data;
	char name[CHATROOM_NAME_MAX];
	long n;

	if (cmd != CHATROOM_IOC_SET_NAME)
		return -ENOTTY;
	n = strncpy_from_user(name, (const char __user *)arg, CHATROOM_NAME_MAX);
	if (n < 0)
		return -EFAULT;
	if (n == 0 || n >= CHATROOM_NAME_MAX)
		return -EINVAL;
	strcpy(me->name, name);
	printk(KERN_INFO "chatroom: %s joined\n", me->name);
	announce(me);
	return 0;
}

static __poll_t chat_poll(struct file *filp, poll_table *wait)
{
	struct member *me = filp->private_data;
	__poll_t mask = POLLOUT | POLLWRNORM;

	poll_wait(filp, &me->wq, wait);
	if (!kfifo_is_empty(&me->fifo))
		mask |= POLLIN | POLLRDNORM;
	return mask;
}

static struct file_operations chat_fops = {
	.owner = THIS_MODULE,
	.open = chat_open,
	.release = chat_release,
	.read = chat_read,
	.write = chat_write,
	.unlocked_ioctl = chat_ioctl,
	.poll = chat_poll,
};

static int __init chat_init(void)
{
	major = register_chrdev(0, DEV_NAME, &chat_fops);
	if (major < 0) {
		printk(KERN_ALERT "chatroom: cannot get a major number\n");
		return major;
	}
	chat_class = class_create(THIS_MODULE, DEV_NAME);
	if (IS_ERR(chat_class)) {
		unregister_chrdev(major, DEV_NAME);
		return PTR_ERR(chat_class);
	}
	device_create(chat_class, NULL, MKDEV(major, 0), NULL, DEV_NAME);
	printk(KERN_INFO "chatroom: loaded\n");
	return 0;
}

static void __exit chat_exit(void)
{
	device_destroy(chat_class, MKDEV(major, 0));
	class_destroy(chat_class);
	unregister_chrdev(major, DEV_NAME);
	printk(KERN_INFO "chatroom: unloaded\n");
}

module_init(chat_init);
module_exit(chat_exit);
