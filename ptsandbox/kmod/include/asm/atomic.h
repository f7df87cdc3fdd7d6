#include <linux/kernel.h>
#include <linux/atomic.h>
#include <linux/sched.h>
