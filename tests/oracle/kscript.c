/* kscript.c - perform a scripted sequence of device calls and print each
 * call's result, so that the same script can run on the real kernel and in
 * ptsandbox and the outputs be compared line by line.
 *
 * Usage: kscript SCRIPT
 *
 * One call per line ('#' starts a comment). F is a descriptor slot 0..15:
 *   open F PATH FLAGS         FLAGS: O_RDONLY|O_WRONLY|O_RDWR, |O_NONBLOCK
 *   close F
 *   ioctl F CMD ARG           CMD a number; ARG a number, "string" (its
 *                             address) or BAD (an unmapped address)
 *   write F DATA [N]          DATA "string", rep:C:N (N times C) or BAD;
 *                             N overrides the length
 *   read F N | read F BAD N   prints the bytes read, escaped
 *   poll F TIMEOUT_MS [in]    polls POLLIN|POLLOUT (or POLLIN only: waits
 *                             for a message); prints the revents bits
 *   fork NAME ... end         the lines up to `end` run in a child NAME
 *   wait NAME                 reap child NAME, print its exit status
 *   post K / pend K           write / read one byte of pipe K (0..7):
 *                             orders steps of different processes
 * Each output line: "PROC LINE: CALL -> RESULT". Every line is one write(2),
 * so lines of different processes never mix.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXLINES 512
#define MAXTOK 8

static char *lines[MAXLINES];
static int nlines;
static int fds[16];
static int pipes[8][2];
static const char *proc = "main";
static char *bad;		/* an address with no mapping */
static struct { char name[32]; pid_t pid; } kids[16];
static int nkids;

static void out(int lineno, const char *call, const char *fmt, ...)
{
	char buf[8192];
	int n;
	va_list ap;

	n = snprintf(buf, sizeof buf, "%s %d: %s -> ", proc, lineno, call);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	if (write(1, buf, n) < 0)
		exit(3);
}

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

/* split into tokens; a "..." token keeps its quotes (unescaped later) */
static int tokenize(char *s, char **tok)
{
	int n = 0;

	while (*s && n < MAXTOK) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			break;
		tok[n++] = s;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (*s)
				s++;
		} else {
			while (*s && *s != ' ' && *s != '\t')
				s++;
		}
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/* a DATA token -> bytes; returns the length */
static size_t data(const char *t, char *buf, size_t cap)
{
	size_t n = 0;

	if (strncmp(t, "rep:", 4) == 0) {
		size_t k = strtoul(t + 6, NULL, 0);
		if (k > cap)
			k = cap;
		memset(buf, t[4], k);
		return k;
	}
	if (*t != '"') {
		fprintf(stderr, "kscript: bad data %s\n", t);
		exit(2);
	}
	for (t++; *t && *t != '"' && n < cap; t++) {
		if (*t == '\\') {
			t++;
			if (*t == 'n')
				buf[n++] = '\n';
			else if (*t == '0')
				buf[n++] = '\0';
			else if (*t == 'x') {
				buf[n++] = (char)strtol((char[]){t[1], t[2], 0}, NULL, 16);
				t += 2;
			} else
				buf[n++] = *t;
		} else
			buf[n++] = *t;
	}
	return n;
}

static void escape(const unsigned char *p, ssize_t n, char *o)
{
	ssize_t i;

	*o++ = '"';
	for (i = 0; i < n; i++) {
		if (p[i] == '\\' || p[i] == '"')
			o += sprintf(o, "\\%c", p[i]);
		else if (p[i] == '\n')
			o += sprintf(o, "\\n");
		else if (isprint(p[i]))
			*o++ = p[i];
		else
			o += sprintf(o, "\\x%02x", p[i]);
	}
	*o++ = '"';
	*o = '\0';
}

static int flags(const char *t)
{
	int f = 0;
	char copy[128], *s, *save;

	snprintf(copy, sizeof copy, "%s", t);
	for (s = strtok_r(copy, "|", &save); s; s = strtok_r(NULL, "|", &save)) {
		if (!strcmp(s, "O_RDONLY")) f |= O_RDONLY;
		else if (!strcmp(s, "O_WRONLY")) f |= O_WRONLY;
		else if (!strcmp(s, "O_RDWR")) f |= O_RDWR;
		else if (!strcmp(s, "O_NONBLOCK")) f |= O_NONBLOCK;
		else { fprintf(stderr, "kscript: bad flag %s\n", s); exit(2); }
	}
	return f;
}

static void result(int lineno, const char *call, long r, int e)
{
	if (r < 0)
		out(lineno, call, "%ld %s", r, ename(e));
	else
		out(lineno, call, "%ld", r);
}

static int run(int from, int depth);

static int step(int i)
{
	static char buf[65536], text[4 * 65536 + 8];
	char copy[1024], *tok[MAXTOK] = {0};
	char *call = lines[i];
	int n, lineno = i + 1, f = 0;
	long r;

	snprintf(copy, sizeof copy, "%s", call);
	n = tokenize(copy, tok);
	if (n == 0)
		return i + 1;
	if (n > 1 && isdigit((unsigned char)tok[1][0]))
		f = atoi(tok[1]) & 15;

	if (!strcmp(tok[0], "open")) {
		fds[f] = open(tok[2], flags(tok[3]));
		result(lineno, call, fds[f] < 0 ? -1 : 0, errno);
	} else if (!strcmp(tok[0], "close")) {
		r = close(fds[f]);
		result(lineno, call, r, errno);
	} else if (!strcmp(tok[0], "ioctl")) {
		unsigned long cmd = strtoul(tok[2], NULL, 0), arg;
		static char sarg[1024];
		if (tok[3][0] == '"') {
			memset(sarg, 0, sizeof sarg);
			data(tok[3], sarg, sizeof sarg - 1);
			arg = (unsigned long)sarg;
		} else if (!strcmp(tok[3], "BAD"))
			arg = (unsigned long)bad;
		else
			arg = strtoul(tok[3], NULL, 0);
		r = ioctl(fds[f], cmd, arg);
		result(lineno, call, r, errno);
	} else if (!strcmp(tok[0], "write")) {
		size_t len = 0;
		char *p = buf;
		if (!strcmp(tok[2], "BAD"))
			p = bad;
		else
			len = data(tok[2], buf, sizeof buf);
		if (tok[3])
			len = strtoul(tok[3], NULL, 0);
		r = write(fds[f], p, len);
		result(lineno, call, r, errno);
	} else if (!strcmp(tok[0], "read")) {
		int isbad = !strcmp(tok[2], "BAD");
		size_t len = strtoul(tok[isbad ? 3 : 2], NULL, 0);
		if (len > sizeof buf)
			len = sizeof buf;
		memset(buf, 0xee, sizeof buf);
		r = read(fds[f], isbad ? bad : buf, len);
		if (r > 0) {
			escape((unsigned char *)buf, r, text);
			out(lineno, call, "%ld %s", r, text);
		} else
			result(lineno, call, r, errno);
	} else if (!strcmp(tok[0], "poll")) {
		struct pollfd p = { .fd = fds[f], .events = POLLIN | POLLOUT };
		if (tok[3] && !strcmp(tok[3], "in"))
			p.events = POLLIN;
		r = poll(&p, 1, atoi(tok[2]));
		if (r < 0)
			result(lineno, call, r, errno);
		else
			out(lineno, call, "%ld%s%s%s%s%s", r,
			    p.revents & POLLIN ? " POLLIN" : "",
			    p.revents & POLLOUT ? " POLLOUT" : "",
			    p.revents & POLLERR ? " POLLERR" : "",
			    p.revents & POLLHUP ? " POLLHUP" : "",
			    p.revents & POLLNVAL ? " POLLNVAL" : "");
	} else if (!strcmp(tok[0], "fork")) {
		int end = i + 1, depth = 0;
		pid_t pid;
		for (; end < nlines; end++) {
			char c2[1024], *t2[MAXTOK] = {0};
			snprintf(c2, sizeof c2, "%s", lines[end]);
			if (tokenize(c2, t2) == 0)
				continue;
			if (!strcmp(t2[0], "fork"))
				depth++;
			if (!strcmp(t2[0], "end") && depth-- == 0)
				break;
		}
		pid = fork();
		if (pid == 0) {
			static char name[32];
			snprintf(name, sizeof name, "%s", tok[1]);
			proc = name;
			nkids = 0;
			run(i + 1, end);
			exit(0);
		}
		snprintf(kids[nkids].name, sizeof kids[nkids].name, "%s", tok[1]);
		kids[nkids++].pid = pid;
		return end + 1;
	} else if (!strcmp(tok[0], "wait")) {
		int k, status = 0;
		for (k = 0; k < nkids; k++)
			if (!strcmp(kids[k].name, tok[1]))
				break;
		if (k == nkids || waitpid(kids[k].pid, &status, 0) < 0) {
			out(lineno, call, "no such child");
		} else if (WIFEXITED(status))
			out(lineno, call, "exit %d", WEXITSTATUS(status));
		else
			out(lineno, call, "signal %d", WTERMSIG(status));
	} else if (!strcmp(tok[0], "post")) {
		if (write(pipes[atoi(tok[1]) & 7][1], "x", 1) != 1)
			exit(3);
	} else if (!strcmp(tok[0], "pend")) {
		char c;
		if (read(pipes[atoi(tok[1]) & 7][0], &c, 1) != 1)
			exit(3);
	} else {
		fprintf(stderr, "kscript: line %d: unknown call %s\n", lineno, tok[0]);
		exit(2);
	}
	return i + 1;
}

static int run(int from, int to)
{
	int i = from;

	while (i < to)
		i = step(i);
	return 0;
}

int main(int argc, char *argv[])
{
	static char text[1 << 16];
	FILE *fp;
	int k;

	fp = fopen(argv[1], "r");
	if (fp == NULL) {
		perror(argv[1]);
		return 2;
	}
	while (nlines < MAXLINES && fgets(text, sizeof text, fp)) {
		text[strcspn(text, "\n")] = '\0';
		lines[nlines++] = strdup(text);
	}
	fclose(fp);
	for (k = 0; k < 8; k++)
		if (pipe(pipes[k]) < 0)
			return 2;
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(bad, 4096);
	run(0, nlines);
	for (k = 0; k < nkids; k++)
		waitpid(kids[k].pid, NULL, 0);
	return 0;
}
