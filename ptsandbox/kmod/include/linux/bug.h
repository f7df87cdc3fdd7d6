/* BUG()/WARN(): reported like the kernel (cut here, file:line, call trace). */
#ifndef _PTSB_LINUX_BUG_H
#define _PTSB_LINUX_BUG_H

#include <linux/compiler.h>

void __ptsb_bug(const char *file, int line) __noreturn;
void __ptsb_warn(const char *file, int line, const char *fmt, ...) __printf(3, 4);

#define BUG() __ptsb_bug(__FILE__, __LINE__)
#define BUG_ON(c) do { if (unlikely(c)) BUG(); } while (0)
#define WARN(c, fmt...) ({ int __c = !!(c); if (unlikely(__c)) __ptsb_warn(__FILE__, __LINE__, fmt); unlikely(__c); })
#define WARN_ON(c) ({ int __c = !!(c); if (unlikely(__c)) __ptsb_warn(__FILE__, __LINE__, NULL); unlikely(__c); })
#define WARN_ON_ONCE(c) ({ static int __w; int __c = !!(c); if (unlikely(__c) && !__w) { __w = 1; __ptsb_warn(__FILE__, __LINE__, NULL); } unlikely(__c); })
#define WARN_ONCE(c, fmt...) ({ static int __w; int __c = !!(c); if (unlikely(__c) && !__w) { __w = 1; __ptsb_warn(__FILE__, __LINE__, fmt); } unlikely(__c); })
#define BUILD_BUG_ON(c) ((void)sizeof(char[1 - 2 * !!(c)]))
#define BUILD_BUG_ON_MSG(c, msg) BUILD_BUG_ON(c)
#define BUILD_BUG() BUILD_BUG_ON(1)

#endif
