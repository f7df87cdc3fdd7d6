/* util.h - shared helpers for the chatroom behaviour tests.
 *
 * Output conventions: one line per check, "what: <ret>" on success or
 * "what: -1 <ENAME>" on failure (ENAME as strerrorname_np, e.g. EAGAIN).
 * The device path is /dev/chatroom unless the environment sets CHATDEV.
 */
#ifndef TESTS_C_UTIL_H
#define TESTS_C_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../cprogs/chatroom.h"

/* Big enough for "NAME: " plus the longest message. */
#define MSGBUF_SIZE (CHATROOM_MSG_MAX + CHATROOM_NAME_MAX + 64)

/* Symbolic errno name ("EAGAIN"), or "E?" if unknown. */
static inline const char *ename(int e)
{
    const char *s = strerrorname_np(e);
    return s ? s : "E?";
}

/* Print "what: ret", or "what: -1 ENAME" (from errno) when ret < 0. */
static inline void report(const char *what, long ret)
{
    int e = errno;
    if (ret < 0)
        printf("%s: -1 %s\n", what, ename(e));
    else
        printf("%s: %ld\n", what, ret);
    fflush(stdout);
    errno = e;
}

/* The device to test: $CHATDEV or /dev/chatroom. */
static inline const char *devpath(void)
{
    const char *p = getenv("CHATDEV");
    return (p && *p) ? p : CHATROOM_DEVICE;
}

/* Set the member name with CHATROOM_IOC_SET_NAME; on failure report
 * "set_name: -1 ENAME" and exit 1. */
static inline void set_name(int fd, const char *name)
{
    char buf[CHATROOM_NAME_MAX];

    memset(buf, 0, sizeof buf);
    strncpy(buf, name, sizeof buf - 1);
    if (ioctl(fd, CHATROOM_IOC_SET_NAME, buf) < 0) {
        report("set_name", -1);
        exit(1);
    }
}

/* Open the device with flags, and name the member if name != NULL.
 * On failure report "open: -1 ENAME" and exit 1. */
static inline int open_dev(int flags, const char *name)
{
    int fd = open(devpath(), flags);

    if (fd < 0) {
        report("open", -1);
        exit(1);
    }
    if (name)
        set_name(fd, name);
    return fd;
}

/* Print "<prefix>: <message>" for a message of n bytes (no NUL in it). */
static inline void print_msg(const char *prefix, const char *buf, ssize_t n)
{
    printf("%s: %.*s\n", prefix, (int)n, buf);
    fflush(stdout);
}

/* Read one line from stdin with fgets, for "wait until the test says go".
 * Returns 0 on a line, -1 on EOF. */
static inline int wait_stdin_line(void)
{
    char line[256];
    return fgets(line, sizeof line, stdin) ? 0 : -1;
}

#endif /* TESTS_C_UTIL_H */
