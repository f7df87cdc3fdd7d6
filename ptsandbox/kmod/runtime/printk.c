/* printk to the supervisor's dmesg (one record per line, with its level), and
 * the lib/ functions the kernel has that the C library lacks or names apart. */
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/ctype.h>
#include <linux/kstrtox.h>

#include "ptsb.h"
#include "rt.h"

void ptsb_printk_line(int level, const char *text)
{
	ptsb_send(MSG_PRINTK, 0, 0, 0, 0, (unsigned)level, 0, text, (unsigned)strlen(text));
}

int vprintk(const char *fmt, va_list args)
{
	char buf[1024];
	const char *p = buf;
	int level = 4; /* MESSAGE_LOGLEVEL_DEFAULT */
	int n = vsnprintf(buf, sizeof buf, fmt, args);
	while (p[0] == '\001' && p[1]) {
		if (p[1] >= '0' && p[1] <= '7')
			level = p[1] - '0';
		else if (p[1] == 'c')
			level = 'c';
		p += 2;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];
		memcpy(line, p, len);
		line[len] = 0;
		ptsb_printk_line(level, line);
		p += len + (nl ? 1 : 0);
	}
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

int vscnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	int n = vsnprintf(buf, size, fmt, args);
	if (!size)
		return 0;
	return n < (int)size ? n : (int)size - 1;
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vscnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t k = n >= size ? size - 1 : n;
		memcpy(dst, src, k);
		dst[k] = 0;
	}
	return n;
}

ssize_t strscpy(char *dst, const char *src, size_t size)
{
	size_t n;
	if (!size)
		return -E2BIG;
	n = strnlen(src, size);
	if (n == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -E2BIG;
	}
	memcpy(dst, src, n + 1);
	return (ssize_t)n;
}

size_t strlcat(char *dst, const char *src, size_t n)
{
	size_t d = strnlen(dst, n), s = strlen(src);
	if (d == n)
		return d + s;
	if (s < n - d) {
		memcpy(dst + d, src, s + 1);
	} else {
		memcpy(dst + d, src, n - d - 1);
		dst[n - 1] = 0;
	}
	return d + s;
}

char *strnchr(const char *s, size_t n, int c)
{
	for (; n-- && *s; s++)
		if (*s == (char)c)
			return (char *)s;
	return NULL;
}

char *skip_spaces(const char *s)
{
	while (isspace(*s))
		s++;
	return (char *)s;
}

char *strim(char *s)
{
	size_t n = strlen(s);
	char *end;
	if (!n)
		return s;
	end = s + n - 1;
	while (end >= s && isspace(*end))
		end--;
	end[1] = 0;
	return skip_spaces(s);
}

char *strstrip(char *s) { return strim(s); }

bool sysfs_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	if (*a == *b)
		return true;
	if (!*a && *b == '\n' && !b[1])
		return true;
	if (*a == '\n' && !a[1] && !*b)
		return true;
	return false;
}

int match_string(const char *const *array, size_t n, const char *string)
{
	size_t i;
	for (i = 0; i < n && array[i]; i++)
		if (!strcmp(array[i], string))
			return (int)i;
	return -EINVAL;
}

void *memscan(void *addr, int c, size_t size)
{
	unsigned char *p = addr;
	while (size && *p != (unsigned char)c) {
		p++;
		size--;
	}
	return p;
}

/* kstrto*: the whole string (one trailing newline allowed) must be a number */
static int parse_ull(const char *s, unsigned int base, unsigned long long *res)
{
	unsigned long long v = 0;
	int any = 0;
	if (base == 0) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit(s[2])) {
			base = 16;
			s += 2;
		} else if (s[0] == '0') {
			base = 8;
		} else {
			base = 10;
		}
	} else if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
	}
	for (; *s; s++) {
		unsigned int d;
		if (isdigit(*s))
			d = (unsigned)(*s - '0');
		else if (isxdigit(*s))
			d = (unsigned)(tolower(*s) - 'a' + 10);
		else
			break;
		if (d >= base)
			break;
		if (v > (ULLONG_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
		any = 1;
	}
	if (*s == '\n')
		s++;
	if (!any || *s)
		return -EINVAL;
	*res = v;
	return 0;
}

int kstrtoull(const char *s, unsigned int base, unsigned long long *res)
{
	if (s[0] == '+')
		s++;
	return parse_ull(s, base, res);
}

int kstrtoll(const char *s, unsigned int base, long long *res)
{
	unsigned long long v;
	int r;
	if (s[0] == '-') {
		r = parse_ull(s + 1, base, &v);
		if (r)
			return r;
		if (v > (unsigned long long)LLONG_MAX + 1)
			return -ERANGE;
		*res = -(long long)v;
		return 0;
	}
	r = kstrtoull(s, base, &v);
	if (r)
		return r;
	if (v > (unsigned long long)LLONG_MAX)
		return -ERANGE;
	*res = (long long)v;
	return 0;
}

#define KSTRTO(name, type, via, vtype, lo, hi) \
int name(const char *s, unsigned int base, type *res) \
{ \
	vtype v; \
	int r = via(s, base, &v); \
	if (r) \
		return r; \
	if (v < (vtype)(lo) || v > (vtype)(hi)) \
		return -ERANGE; \
	*res = (type)v; \
	return 0; \
}
KSTRTO(kstrtoul, unsigned long, kstrtoull, unsigned long long, 0, ULONG_MAX)
KSTRTO(kstrtol, long, kstrtoll, long long, LONG_MIN, LONG_MAX)
KSTRTO(kstrtouint, unsigned int, kstrtoull, unsigned long long, 0, UINT_MAX)
KSTRTO(kstrtoint, int, kstrtoll, long long, INT_MIN, INT_MAX)
KSTRTO(kstrtou16, u16, kstrtoull, unsigned long long, 0, U16_MAX)
KSTRTO(kstrtou8, u8, kstrtoull, unsigned long long, 0, U8_MAX)

int kstrtobool(const char *s, bool *res)
{
	if (!s)
		return -EINVAL;
	switch (s[0]) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		*res = true;
		return 0;
	case 'n': case 'N': case 'f': case 'F': case '0':
		*res = false;
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N') { *res = true; return 0; }
		if (s[1] == 'f' || s[1] == 'F') { *res = false; return 0; }
		break;
	}
	return -EINVAL;
}

unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base)
{
	unsigned long long v = 0;
	if (!base)
		base = (cp[0] == '0') ? ((cp[1] == 'x' || cp[1] == 'X') ? 16 : 8) : 10;
	if (base == 16 && cp[0] == '0' && (cp[1] == 'x' || cp[1] == 'X'))
		cp += 2;
	for (; isxdigit(*cp); cp++) {
		unsigned int d = isdigit(*cp) ? (unsigned)(*cp - '0') : (unsigned)(tolower(*cp) - 'a' + 10);
		if (d >= base)
			break;
		v = v * base + d;
	}
	if (endp)
		*endp = (char *)cp;
	return v;
}

unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base) { return (unsigned long)simple_strtoull(cp, endp, base); }
long long simple_strtoll(const char *cp, char **endp, unsigned int base)
{
	if (*cp == '-')
		return -(long long)simple_strtoull(cp + 1, endp, base);
	return (long long)simple_strtoull(cp, endp, base);
}
long simple_strtol(const char *cp, char **endp, unsigned int base) { return (long)simple_strtoll(cp, endp, base); }
