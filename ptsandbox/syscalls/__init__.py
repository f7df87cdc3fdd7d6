"""The syscall table: decode arguments, resolve fds and paths, call the VFS, encode.

Each handler gets the trapped thread and the raw arguments and answers as the
tracer expects (see tracer.py): a result, `ALLOW` (not ours: the kernel runs
it), or a job for work that needs the tracee to run syscalls (open, dup).
Policy lives in the device files; what is here is the kernel's VFS layer:
access-mode checks, O_NONBLOCK, pread on stream devices, the errno a char
device gives for an operation it lacks.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from .. import seccomp
from ..sysnr import NR
from ..tracer import Tracer
from ..vfs import Vfs
from .core import CallContext, Parking, ProcessInfo, SyscallCore, TraceEvent
from .sys_fds import FdCalls
from .sys_paths import PathCalls
from .sys_ptrace import PtraceCalls
from .sys_read_write import ReadWriteCalls
from .sys_stat import StatCalls, pack_stat, pack_statx

__all__ = [
    "CallContext", "Parking", "ProcessInfo", "SyscallCore", "Syscalls", "TraceEvent",
    "pack_stat", "pack_statx",
]  # fmt: skip


class Syscalls(PathCalls, StatCalls, ReadWriteCalls, FdCalls, PtraceCalls):
    """Handlers for every trapped syscall, one family per module. Not ours: ALLOW."""

    def __init__(self, tracer: Tracer, vfs: Vfs, before_device_op: Callable[[], None]) -> None:
        super().__init__(tracer, vfs, before_device_op)
        for name in seccomp.FD_SYSCALLS:
            handler = getattr(self, f"sys_{name}", None)
            self._table[NR[name]] = handler or self._fixed_fd_errno(name)
        for name in seccomp.PATH_SYSCALLS:
            self._table[NR[name]] = self._path_call(name)
        self._table[NR["close_range"]] = self.sys_close_range
        self._table[NR["recvmsg"]] = self.sys_recvmsg
        self._table[NR["recvmmsg"]] = self.sys_recvmmsg
        self._table[NR["io_uring_setup"]] = lambda t, a: -errno.ENOSYS
        self._table[NR["ptrace"]] = self.sys_ptrace
        self.protected_pids = set()
