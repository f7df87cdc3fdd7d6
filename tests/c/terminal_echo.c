/* terminal_echo.c - as a student writes a line-by-line tool: plain printf, no
 * fflush. Says what its stdio is, then answers each input line with one read(),
 * and at end of input prints a count; "crash" makes it exit(-1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char buf[8192];
    int lines = 0;
    ssize_t n;

    printf("tty %d %d %d\n", isatty(0), isatty(1), isatty(2));
    while ((n = read(0, buf, sizeof buf - 1)) > 0) {
        buf[n] = 0;
        if (strncmp(buf, "crash", 5) == 0)
            exit(-1);
        lines++;
        printf("read %zd: %s", n, buf);
    }
    printf("\nend after %d reads\n", lines);
    return 0;
}
