#ifndef _PTSB_LINUX_STAT_H
#define _PTSB_LINUX_STAT_H
#include <linux/fs.h>
#endif
