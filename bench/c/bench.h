/* bench.h - shared helpers of the benchmark programs: a monotonic clock and failure exits. */
#ifndef BENCH_H
#define BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CLOCK_MONOTONIC through the vDSO: no syscall, so nothing the supervisor sees.
 * The same clock as Python's time.monotonic(), comparable across processes. */
static inline long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(1);
}

#endif /* BENCH_H */
