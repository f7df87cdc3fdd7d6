/* kmod_probe.c - what grading does to a student's module that no client does:
 * bad user pointers, many openers at once, many channels. Run by the module
 * scenarios (ptsandbox/grading/suites/), one line per call on stdout:
 *
 *   kmod_probe badptr slot PATH CMD...   set channel 1 (first CMD that works), then
 *                                        write/read with NULL and unmapped buffers
 *   kmod_probe badptr chat PATH CMD      two members; ioctl/write/read with bad pointers
 *   kmod_probe badptr mq PATH            /reg, then write/read with bad pointers
 *   kmod_probe concurrent slot N FIRST PATH CMD...  N processes at once, each on its own
 *                                        channel (FIRST, FIRST+1 ...): open, set, write,
 *                                        read back, close (20 rounds)
 *   kmod_probe concurrent open N PATH    N processes at once open and close 20 times
 *   kmod_probe channels FIRST COUNT PATH CMD...  COUNT channels from FIRST on each PATH
 *                                        (comma-separated), each written then read back
 *
 * A call the module must refuse (a bad pointer) printing "ok" is a failure line
 * ("FAIL ..."); the exit status is 0 only if every line is fine. Calls that may
 * sleep are bounded by alarm(): a SIGALRM interrupts them (EINTR).
 *
 * No read into a read-only page: the hosted module writes user memory through
 * /proc/PID/mem, which writes read-only private pages too (the kernel's
 * copy_to_user would fail there with EFAULT).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static void *volatile null_buf; /* NULL, hidden from the compiler's checks */

static void on_alarm(int sig) { (void)sig; }

static void bound_sleeps(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: a sleeping call returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
}

/* The call must fail (a bad pointer): print what it did. */
static void refused(const char *what, long r)
{
	if (r < 0) {
		printf("%s = -1 %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	} else {
		printf("FAIL %s = %ld: a bad user pointer must make the call fail (EFAULT)\n", what, r);
		failures++;
	}
}

static void must(const char *what, long r)
{
	if (r < 0) {
		printf("FAIL %s = -1 %s\n", what, strerror(errno));
		failures++;
	} else {
		printf("%s = %ld\n", what, r);
	}
}

/* An address that is mapped in no process: a page mapped, then unmapped. */
static char *unmapped(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, 4096);
	return p;
}

/* Does a read of n bytes hold msg? The message itself, or (the seed's fixed
 * 128-byte buffers) the message and then zero fill. */
static int holds(const char *buf, long n, const char *msg, int len)
{
	if (n < len || memcmp(buf, msg, len) != 0)
		return 0;
	for (long i = len; i < n; i++)
		if (buf[i] != 0)
			return 0;
	return 1;
}

/* Set the channel with the first command that works (the one that worked last
 * time first); -1 if none does. */
static int set_channel(int fd, unsigned long channel, char **cmds, int ncmds)
{
	static int worked;
	if (worked < ncmds && ioctl(fd, strtoul(cmds[worked], NULL, 0), channel) == 0)
		return 0;
	for (int i = 0; i < ncmds; i++) {
		if (i != worked && ioctl(fd, strtoul(cmds[i], NULL, 0), channel) == 0) {
			worked = i;
			return 0;
		}
	}
	return -1;
}

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		printf("FAIL open(%s) = -1 %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

static void badptr_slot(const char *path, char **cmds, int ncmds)
{
	char buf[256];
	int fd = open_dev(path);
	if (set_channel(fd, 1, cmds, ncmds) != 0) {
		printf("FAIL ioctl(set channel 1) = -1 %s\n", strerror(errno));
		exit(2);
	}
	refused("write(fd, NULL, 5)", write(fd, null_buf, 5));
	refused("write(fd, unmapped, 5)", write(fd, unmapped(), 5));
	must("write(fd, \"probe\", 5)", write(fd, "probe", 5));
	refused("read(fd, NULL, 128)", read(fd, null_buf, 128));
	refused("read(fd, unmapped, 128)", read(fd, unmapped(), 128));
	long n = read(fd, buf, sizeof buf);
	if (holds(buf, n, "probe", 5)) {
		printf("read(fd, buf, 256) = %ld \"probe\"\n", n);
	} else {
		printf("FAIL read(fd, buf, 256) = %ld: the message \"probe\" should still be there\n", n);
		failures++;
	}
	close(fd);
}

static void badptr_chat(const char *path, char *cmd)
{
	unsigned long set_name = strtoul(cmd, NULL, 0);
	int a = open_dev(path), b = open_dev(path);
	refused("ioctl(a, SET_NAME, NULL)", ioctl(a, set_name, null_buf));
	refused("ioctl(a, SET_NAME, unmapped)", ioctl(a, set_name, unmapped()));
	refused("write(a, NULL, 5)", write(a, null_buf, 5));
	refused("write(a, unmapped, 5)", write(a, unmapped(), 5));
	must("write(a, \"probe\", 5)", write(a, "probe", 5));
	alarm(5);
	refused("read(b, NULL, 1024)", read(b, null_buf, 1024));
	alarm(5);
	refused("read(b, unmapped, 1024)", read(b, unmapped(), 1024));
	alarm(0);
	close(a);
	close(b);
}

static void badptr_mq(const char *path)
{
	int fd = open_dev(path);
	refused("write(fd, NULL, 10)", write(fd, null_buf, 10));
	refused("write(fd, unmapped, 10)", write(fd, unmapped(), 10));
	must("write(fd, \"/reg probe\", 10)", write(fd, "/reg probe", 10));
	must("write(fd, \"/msg probe hello\", 16)", write(fd, "/msg probe hello", 16));
	alarm(5);
	refused("read(fd, NULL, 256)", read(fd, null_buf, 256));
	alarm(5);
	refused("read(fd, unmapped, 256)", read(fd, unmapped(), 256));
	alarm(0);
	close(fd);
}

/* One process of `concurrent slot`: 20 rounds on its own channel. */
static unsigned long first_channel;

static int slot_worker(const char *path, int id, char **cmds, int ncmds)
{
	unsigned long channel = first_channel + (unsigned long)id;
	char msg[64], buf[256];
	for (int round = 0; round < 20; round++) {
		int fd = open(path, O_RDWR);
		if (fd < 0) {
			printf("FAIL [%d] open = -1 %s\n", id, strerror(errno));
			return 1;
		}
		if (set_channel(fd, channel, cmds, ncmds) != 0) {
			printf("FAIL [%d] ioctl(channel %lu) = -1 %s\n", id, channel, strerror(errno));
			return 1;
		}
		int len = snprintf(msg, sizeof msg, "process %d round %d", id, round);
		if (write(fd, msg, len) != len) {
			printf("FAIL [%d] write = -1 %s\n", id, strerror(errno));
			return 1;
		}
		long n = read(fd, buf, sizeof buf);
		if (!holds(buf, n, msg, len)) {
			printf("FAIL [%d] channel %lu read back %ld bytes \"%.*s\", wrote \"%s\"\n", id,
			       channel, n, n > 0 ? (int)n : 0, buf, msg);
			return 1;
		}
		close(fd);
	}
	return 0;
}

static int open_worker(const char *path, int id)
{
	for (int round = 0; round < 20; round++) {
		int fd = open(path, O_RDWR);
		if (fd < 0) {
			printf("FAIL [%d] open = -1 %s\n", id, strerror(errno));
			return 1;
		}
		close(fd);
	}
	return 0;
}

static void concurrent(const char *mode, int n, const char *path, char **cmds, int ncmds)
{
	int go[2];
	if (pipe(go) != 0)
		exit(2);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			printf("FAIL fork: %s\n", strerror(errno));
			exit(2);
		}
		if (pid == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) < 0) /* all start together */
				_exit(2);
			fflush(stdout);
			int bad = strcmp(mode, "slot") == 0 ? slot_worker(path, i, cmds, ncmds)
							     : open_worker(path, i);
			fflush(stdout);
			_exit(bad);
		}
	}
	close(go[0]);
	close(go[1]);
	int ok = 0, status;
	while (wait(&status) > 0)
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	printf("%d of %d processes did all their rounds\n", ok, n);
	if (ok != n)
		failures++;
}

static void channels(unsigned long first, int count, char *paths, char **cmds, int ncmds)
{
	char msg[64], buf[256];
	int total = 0;
	for (char *path = strtok(paths, ","); path; path = strtok(NULL, ",")) {
		int fd = open_dev(path);
		for (int pass = 0; pass < 2; pass++) {
			for (int i = 0; i < count; i++) {
				unsigned long ch = first + (unsigned long)i;
				if (set_channel(fd, ch, cmds, ncmds) != 0) {
					printf("FAIL %s: ioctl(channel %lu) = -1 %s\n", path, ch,
					       strerror(errno));
					failures++;
					return;
				}
				int len = snprintf(msg, sizeof msg, "%s #%lu", path, ch);
				if (pass == 0) {
					if (write(fd, msg, len) != len) {
						printf("FAIL %s: write on channel %lu = -1 %s\n", path, ch,
						       strerror(errno));
						failures++;
						return;
					}
					continue;
				}
				long n = read(fd, buf, sizeof buf);
				if (!holds(buf, n, msg, len)) {
					printf("FAIL %s: channel %lu read back %ld bytes \"%.*s\", "
					       "wrote \"%s\"\n", path, ch, n, n > 0 ? (int)n : 0, buf, msg);
					failures++;
					return;
				}
				total++;
			}
		}
		close(fd);
	}
	printf("%d channels written and read back\n", total);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	bound_sleeps();
	if (argc >= 4 && strcmp(argv[1], "badptr") == 0) {
		if (strcmp(argv[2], "slot") == 0)
			badptr_slot(argv[3], argv + 4, argc - 4);
		else if (strcmp(argv[2], "chat") == 0 && argc >= 5)
			badptr_chat(argv[3], argv[4]);
		else if (strcmp(argv[2], "mq") == 0)
			badptr_mq(argv[3]);
		else
			return 2;
	} else if (argc >= 6 && strcmp(argv[1], "concurrent") == 0 && strcmp(argv[2], "slot") == 0) {
		first_channel = strtoul(argv[4], NULL, 0);
		concurrent(argv[2], atoi(argv[3]), argv[5], argv + 6, argc - 6);
	} else if (argc >= 5 && strcmp(argv[1], "concurrent") == 0) {
		concurrent(argv[2], atoi(argv[3]), argv[4], argv + 5, argc - 5);
	} else if (argc >= 5 && strcmp(argv[1], "channels") == 0) {
		channels(strtoul(argv[2], NULL, 0), atoi(argv[3]), argv[4], argv + 5, argc - 5);
	} else {
		fprintf(stderr, "usage: see kmod_probe.c\n");
		return 2;
	}
	return failures ? 1 : 0;
}
