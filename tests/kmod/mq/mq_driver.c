/*
 * mq_driver.c - TP2: simple messaging kernel module (/dev/mq)
 *
 * Commands are written as text:
 *   /reg NAME  /unr  /msg DEST TEXT  /all TEXT
 * and read() returns the next message of the caller's queue as "SENDER: TEXT".
 * Processes are identified by their PID (current->pid).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include <linux/spinlock.h>
#include <linux/sched.h>
#include <linux/moduleparam.h>

#include "mq.h"

MODULE_LICENSE("GPL");
MODULE_AUTHOR("TP2 group");
MODULE_DESCRIPTION("Simple messaging with circular queues");

static int MAX_DEVICES = 8;
static int QUEUE_LEN = 8;
static int CMD_BUF_SIZE = 256;
module_param(MAX_DEVICES, int, 0444);
MODULE_PARM_DESC(MAX_DEVICES, "maximum number of registered processes");
module_param(QUEUE_LEN, int, 0444);
MODULE_PARM_DESC(QUEUE_LEN, "messages per queue");
module_param(CMD_BUF_SIZE, int, 0444);
MODULE_PARM_DESC(CMD_BUF_SIZE, "maximum command size");

struct message {
	char *data;
	char sender[MQ_NAME_MAX];
	int size;
};

struct control_block {
	int used;
	pid_t pid;
	char name[MQ_NAME_MAX];
	struct message *queue;
	int head, tail, count;
	spinlock_t lock;
};

static struct control_block *cbs;
static DEFINE_SPINLOCK(list_lock);

static struct control_block *find_pid(pid_t pid)
{
	int i;

	for (i = 0; i < MAX_DEVICES; i++)
		if (cbs[i].used && cbs[i].pid == pid)
			return &cbs[i];
	return NULL;
}

static struct control_block *find_name(const char *name)
{
	int i;

	for (i = 0; i < MAX_DEVICES; i++)
		if (cbs[i].used && strcmp(cbs[i].name, name) == 0)
			return &cbs[i];
	return NULL;
}

static void free_queue(struct control_block *cb)
{
	int i;

	for (i = 0; i < QUEUE_LEN; i++) {
		kfree(cb->queue[i].data);
		cb->queue[i].data = NULL;
	}
	kfree(cb->queue);
	cb->queue = NULL;
}

/* called with list_lock held; data was allocated by the caller */
static void enqueue(struct control_block *to, const char *sender, char *data, int size)
{
	struct message *m;

	spin_lock(&to->lock);
	if (to->count == QUEUE_LEN) {
		/* full: overwrite the oldest message */
		kfree(to->queue[to->head].data);
		to->queue[to->head].data = NULL;
		to->head = (to->head + 1) % QUEUE_LEN;
		to->count--;
	}
	m = &to->queue[to->tail];
	m->data = data;
	m->size = size;
	strscpy(m->sender, sender, MQ_NAME_MAX);
	to->tail = (to->tail + 1) % QUEUE_LEN;
	to->count++;
	spin_unlock(&to->lock);
}

static int do_reg(const char *name)
{
	struct message *q;
	int i, free_slot = -1;

	if (name[0] == '\0' || strlen(name) >= MQ_NAME_MAX || strchr(name, ' '))
		return -EINVAL;
	q = kcalloc(QUEUE_LEN, sizeof(struct message), GFP_KERNEL);
	if (!q)
		return -ENOMEM;

	spin_lock(&list_lock);
	if (find_pid(current->pid) || find_name(name)) {
		spin_unlock(&list_lock);
		kfree(q);
		return -EEXIST;
	}
	for (i = 0; i < MAX_DEVICES; i++) {
		if (!cbs[i].used) {
			free_slot = i;
			break;
		}
	}
	if (free_slot < 0) {
		spin_unlock(&list_lock);
		kfree(q);
		printk(KERN_ERR "mq: no room for %s\n", name);
		return -ENOMEM;
	}
	cbs[free_slot].used = 1;
	cbs[free_slot].pid = current->pid;
	strscpy(cbs[free_slot].name, name, MQ_NAME_MAX);
	cbs[free_slot].queue = q;
	cbs[free_slot].head = cbs[free_slot].tail = cbs[free_slot].count = 0;
	spin_lock_init(&cbs[free_slot].lock);
	spin_unlock(&list_lock);
	printk(KERN_INFO "mq: registered %s\n", name);
	return 0;
}

static int do_unr(void)
{
	struct control_block *cb;
	char name[MQ_NAME_MAX];

	spin_lock(&list_lock);
	cb = find_pid(current->pid);
	if (!cb) {
		spin_unlock(&list_lock);
		return -ENOENT;
	}
	cb->used = 0;
	strscpy(name, cb->name, MQ_NAME_MAX);
	free_queue(cb);
	spin_unlock(&list_lock);

	printk(KERN_INFO "mq: unregistered %s\n", name);
	return 0;
}

static char *make_copy(const char *text, int *size)
{
	char *data;

	*size = strlen(text);
	data = kmalloc(*size + 1, GFP_KERNEL);
	if (data)
		strcpy(data, text);
	return data;
}

static int registered(void)
{
	int yes;

	spin_lock(&list_lock);
	yes = find_pid(current->pid) != NULL;
	spin_unlock(&list_lock);
	return yes;
}

static int do_msg(char *args)
{
	struct control_block *me, *to;
	char *dest = args, *text, *data;
	int size;

	if (!registered())
		return -EACCES;
	text = strchr(args, ' ');
	if (!text)
		return -EINVAL;
	*text++ = '\0';
	if (dest[0] == '\0' || text[0] == '\0')
		return -EINVAL;
	data = make_copy(text, &size);
	if (!data)
		return -ENOMEM;

	spin_lock(&list_lock);
	me = find_pid(current->pid);
	if (!me) {
		spin_unlock(&list_lock);
		kfree(data);
		return -EACCES;
	}
	to = find_name(dest);
	if (!to) {
		spin_unlock(&list_lock);
		kfree(data);
		return -ENOENT;
	}
	enqueue(to, me->name, data, size);
	spin_unlock(&list_lock);
	return 0;
}

static int do_all(char *text)
{
	struct control_block *me;
	char **copies;
	int i, n = 0, size = strlen(text);

	if (!registered())
		return -EACCES;
	if (text[0] == '\0')
		return -EINVAL;
	/* allocate all the copies before taking the lock */
	copies = kcalloc(MAX_DEVICES, sizeof(char *), GFP_KERNEL);
	if (!copies)
		return -ENOMEM;
	for (i = 0; i < MAX_DEVICES; i++) {
		copies[i] = kmalloc(size + 1, GFP_KERNEL);
		if (!copies[i])
			goto nomem;
		strcpy(copies[i], text);
	}

	spin_lock(&list_lock);
	me = find_pid(current->pid);
	if (!me) {
		spin_unlock(&list_lock);
		for (i = 0; i < MAX_DEVICES; i++)
			kfree(copies[i]);
		kfree(copies);
		return -EACCES;
	}
	for (i = 0; i < MAX_DEVICES; i++) {
		if (cbs[i].used && &cbs[i] != me) {
			enqueue(&cbs[i], me->name, copies[n], size);
			copies[n++] = NULL;
		}
	}
	spin_unlock(&list_lock);
	for (i = 0; i < MAX_DEVICES; i++)
		kfree(copies[i]);
	kfree(copies);
	return 0;
nomem:
	while (i-- > 0)
		kfree(copies[i]);
	kfree(copies);
	return -ENOMEM;
}

static char *trim(char *s)
{
	int len;

	while (*s == ' ')
		s++;
	len = strlen(s);
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	return s;
}

static ssize_t mq_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	char *cmd, *rest;
	int ret, len;

	if (count >= CMD_BUF_SIZE)
		return -EINVAL;
	cmd = kmalloc(CMD_BUF_SIZE, GFP_KERNEL);
	if (!cmd)
		return -ENOMEM;
	if (copy_from_user(cmd, buf, count)) {
		kfree(cmd);
		return -EFAULT;
	}
	cmd[count] = '\0';
	len = count;
	while (len > 0 && (cmd[len - 1] == '\n' || cmd[len - 1] == '\0'))
		cmd[--len] = '\0';

	rest = strchr(cmd, ' ');
	if (rest)
		*rest++ = '\0';
	else
		rest = cmd + len;	/* the empty string */
	rest = trim(rest);

	if (strcmp(cmd, "/reg") == 0)
		ret = do_reg(rest);
	else if (strcmp(cmd, "/unr") == 0)
		ret = do_unr();
	else if (strcmp(cmd, "/msg") == 0)
		ret = do_msg(rest);
	else if (strcmp(cmd, "/all") == 0)
		ret = do_all(rest);
	else
		ret = -EINVAL;
	kfree(cmd);
	return ret < 0 ? ret : count;
}

static ssize_t mq_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct control_block *me;
	struct message *m;
	char *out;
	int len;

	out = kmalloc(MQ_NAME_MAX + 2 + CMD_BUF_SIZE, GFP_KERNEL);
	if (!out)
		return -ENOMEM;

	spin_lock(&list_lock);
	me = find_pid(current->pid);
	if (!me) {
		spin_unlock(&list_lock);
		kfree(out);
		return -ENOENT;
	}
	spin_lock(&me->lock);
	if (me->count == 0) {
		spin_unlock(&me->lock);
		spin_unlock(&list_lock);
		kfree(out);
		return -EAGAIN;
	}
	m = &me->queue[me->head];
	len = sprintf(out, "%s: %s", m->sender, m->data);
	kfree(m->data);
	m->data = NULL;
	me->head = (me->head + 1) % QUEUE_LEN;
	me->count--;
	spin_unlock(&me->lock);
	spin_unlock(&list_lock);

	if (len > count)
		len = count;
	if (copy_to_user(buf, out, len)) {
		kfree(out);
		return -EFAULT;
	}
	kfree(out);
	return len;
}

static const struct file_operations mq_fops = {
	.owner = THIS_MODULE,
	.read = mq_read,
	.write = mq_write,
};

static struct miscdevice mq_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mq",
	.fops = &mq_fops,
};

static int __init mq_init(void)
{
	int ret;

	if (MAX_DEVICES < 1 || QUEUE_LEN < 1 || CMD_BUF_SIZE < 16)
		return -EINVAL;
	cbs = kcalloc(MAX_DEVICES, sizeof(struct control_block), GFP_KERNEL);
	if (!cbs)
		return -ENOMEM;
	ret = misc_register(&mq_dev);
	if (ret) {
		kfree(cbs);
		return ret;
	}
	printk(KERN_INFO "mq: loaded (MAX_DEVICES=%d QUEUE_LEN=%d CMD_BUF_SIZE=%d)\n",
	       MAX_DEVICES, QUEUE_LEN, CMD_BUF_SIZE);
	return 0;
}

static void __exit mq_exit(void)
{
	int i;

	misc_deregister(&mq_dev);
	for (i = 0; i < MAX_DEVICES; i++)
		if (cbs[i].used)
			free_queue(&cbs[i]);
	kfree(cbs);
	printk(KERN_INFO "mq: unloaded\n");
}

module_init(mq_init);
module_exit(mq_exit);
