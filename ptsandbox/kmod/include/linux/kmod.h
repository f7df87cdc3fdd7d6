#ifndef _PTSB_LINUX_KMOD_H
#define _PTSB_LINUX_KMOD_H
#endif
