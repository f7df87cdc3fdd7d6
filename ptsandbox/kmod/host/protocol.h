/* The supervisor <-> module host protocol: fixed little-endian records over a
 * SOCK_SEQPACKET socket (one record per packet, optional trailing payload, and
 * an SCM_RIGHTS fd: the caller's /proc/TID/mem). ptsandbox/kmod/host.py packs
 * the same layouts; keep the two in step. */
#ifndef PTSB_PROTOCOL_H
#define PTSB_PROTOCOL_H
typedef unsigned int ptsb_u32;
typedef int ptsb_s32;
typedef long long ptsb_s64;
typedef unsigned long long ptsb_u64;

enum ptsb_op {
	OP_LOAD = 1,    /* payload: params "NAME=VALUE\0..." ; runs init */
	OP_UNLOAD = 2,  /* runs exit, then the leak scan; the host ends after replying */
	OP_OPEN = 3,    /* a0 = major, a1 = minor, a2 = inode number */
	OP_READ = 4,    /* a0 = buf, a1 = count */
	OP_WRITE = 5,   /* a0 = buf, a1 = count */
	OP_IOCTL = 6,   /* a0 = cmd, a1 = arg */
	OP_COMPAT_IOCTL = 7,
	OP_LLSEEK = 8,  /* a0 = offset, a1 = whence */
	OP_POLL = 9,
	OP_RELEASE = 10,
	OP_SIGNAL = 11, /* a0 = the call to interrupt, a1 = 1 if the signal is fatal */
};

enum ptsb_kind {
	MSG_DONE = 1,    /* result, pos, a = module refcount, file = new file id (open) */
	MSG_SLEEP = 2,   /* the call went to sleep */
	MSG_PRINTK = 3,  /* payload: one line; a = level */
	MSG_REPORT = 4,  /* payload: a kernel-style report; a = 1 if it is an oops of the call */
	MSG_WAKE = 5,    /* a queue some poll of `file` waits on was woken */
	MSG_CHRDEV = 6,  /* a = major, b = 1 registered / 0 unregistered; payload: name */
	MSG_NODE = 7,    /* a = major, b = minor, result = mode (0: remove); payload: path */
	MSG_HELLO = 8,   /* result = the host's pid (it is not the supervisor's child) */
};

struct ptsb_req {
	ptsb_u32 op;
	ptsb_u32 call;
	ptsb_s32 tid;
	ptsb_s32 tgid;
	char comm[16];
	ptsb_u64 file;
	ptsb_u32 f_flags;
	ptsb_u32 len; /* payload bytes */
	ptsb_s64 pos;
	ptsb_u64 a0, a1, a2;
};

struct ptsb_msg {
	ptsb_u32 kind;
	ptsb_u32 call;
	ptsb_s64 result;
	ptsb_s64 pos;
	ptsb_u64 file;
	ptsb_u32 a, b;
	ptsb_u32 len;
	ptsb_u32 pad;
};

#define PTSB_MAX_PAYLOAD 65536
#endif
