/* chatroom.h - user-space interface of the /dev/chatroom character device. */
#ifndef CHATROOM_H
#define CHATROOM_H

#include <linux/ioctl.h>

/* The device node. Opening it joins the room; closing the last descriptor
 * leaves it (the other members then receive the notice "NAME left"). */
#define CHATROOM_DEVICE "/dev/chatroom"

/* Longest member name, including the terminating NUL (so 31 visible chars). */
#define CHATROOM_NAME_MAX 32

/* Longest message text a single write() may carry. Each write() is one whole
 * message of raw text: no trailing newline, no NUL. The device delivers it to
 * every other member prefixed with "NAME: ". */
#define CHATROOM_MSG_MAX 1024

/* ioctl "type" byte shared by all chatroom requests. */
#define CHATROOM_IOC_MAGIC 'k'

/* Set the caller's name. The argument is a pointer to a NUL-terminated name
 * of at most CHATROOM_NAME_MAX-1 characters. Once named, the other members
 * receive the notice "NAME joined the room".
 *
 * Reading: each read() returns exactly one whole message ("NAME: text", or a
 * notice "NAME joined the room" / "NAME left"), with no NUL terminator and no
 * newline; it blocks until a message is queued for this member. */
#define CHATROOM_IOC_SET_NAME _IOW(CHATROOM_IOC_MAGIC, 1, char[CHATROOM_NAME_MAX])

#endif /* CHATROOM_H */
