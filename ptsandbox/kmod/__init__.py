"""A student's kernel module, compiled unmodified against a user-space kernel API.

`include/` answers the module's `#include <linux/...>`; `runtime/` is the
stand-in kernel (memory, user copies, locks, wait queues, kfifo, printk, the
checks a debug kernel makes); `host/` is the process the module runs in, one
per loaded module. `build` compiles a module into a host binary, `host` starts
and talks to it; `ptsandbox.devices.kmodule` is the device the supervisor sees.
"""
