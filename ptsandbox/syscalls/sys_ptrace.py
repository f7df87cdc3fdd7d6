"""ptrace(2) from a traced program: what keeps the supervisor from being frozen.

Every process in the sandbox is already traced by the supervisor, so the kernel
itself refuses PTRACE_TRACEME and an attach to any of them with EPERM. What it
would allow (as root, or without Yama) is an attach to the supervisor, which
stops it while it traces the attacher: both freeze. That attach gets EPERM,
the kernel's answer for a process that may not be traced; every other ptrace
call goes to the kernel untouched.
"""

from __future__ import annotations

import errno
import os

from ..tracer import ALLOW, Outcome, Thread
from .core import SyscallCore

PTRACE_ATTACH = 16
PTRACE_SEIZE = 0x4206


def _tgid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class PtraceCalls(SyscallCore):
    #: processes a tracee must never stop by attaching: the supervisor itself
    protected_pids: set[int]

    def sys_ptrace(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        request, pid = a[0], a[1] & 0xFFFFFFFF
        if request not in (PTRACE_ATTACH, PTRACE_SEIZE) or pid == 0 or pid & 0x80000000:
            return ALLOW
        tgid = _tgid_of(pid)
        if tgid is not None and tgid in (self.protected_pids | {os.getpid()}):
            return -errno.EPERM
        return ALLOW
