/* poll: poll_wait() registers the file on the queue; a wake_up() on it tells the
 * supervisor to poll the file again. */
#ifndef _PTSB_LINUX_POLL_H
#define _PTSB_LINUX_POLL_H
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/fs.h>

#define POLLIN 0x0001
#define POLLPRI 0x0002
#define POLLOUT 0x0004
#define POLLERR 0x0008
#define POLLHUP 0x0010
#define POLLNVAL 0x0020
#define POLLRDNORM 0x0040
#define POLLRDBAND 0x0080
#define POLLWRNORM 0x0100
#define POLLWRBAND 0x0200
#define POLLMSG 0x0400
#define POLLRDHUP 0x2000
#define EPOLLIN ((__poll_t)POLLIN)
#define EPOLLPRI ((__poll_t)POLLPRI)
#define EPOLLOUT ((__poll_t)POLLOUT)
#define EPOLLERR ((__poll_t)POLLERR)
#define EPOLLHUP ((__poll_t)POLLHUP)
#define EPOLLNVAL ((__poll_t)POLLNVAL)
#define EPOLLRDNORM ((__poll_t)POLLRDNORM)
#define EPOLLRDBAND ((__poll_t)POLLRDBAND)
#define EPOLLWRNORM ((__poll_t)POLLWRNORM)
#define EPOLLWRBAND ((__poll_t)POLLWRBAND)
#define EPOLLRDHUP ((__poll_t)POLLRDHUP)
#define DEFAULT_POLLMASK (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM)

typedef struct poll_table_struct {
	struct file *file;
} poll_table;

void __ptsb_poll_wait(struct file *filp, wait_queue_head_t *wq, poll_table *p);
static inline void poll_wait(struct file *filp, wait_queue_head_t *wq, poll_table *p)
{
	if (p && wq)
		__ptsb_poll_wait(filp, wq, p);
}
#endif
