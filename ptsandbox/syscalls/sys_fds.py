"""Calls about the descriptor rather than the device: close, dup and fcntl
(the kernel does them on the real fd; we watch the new number), mmap, fadvise,
fds arriving by SCM_RIGHTS, and the fixed errno of calls a char device lacks."""

from __future__ import annotations

import errno
import logging
import socket
import struct
from collections.abc import Callable

from .. import calltrace, seccomp
from ..sysnr import NR
from ..tracer import (
    ALLOW,
    Job,
    Outcome,
    Run,
    Thread,
    read_memory,
)
from .core import (
    F_DUPFD,
    F_DUPFD_CLOEXEC,
    F_GETFL,
    F_SETFL,
    MAP_ANONYMOUS,
    O_DIRECT,
    SETFL_MASK,
    SyscallCore,
    _s32,
)

log = logging.getLogger("ptsandbox.syscalls")

MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE = 0x1, 0x2, 0x3, 0xF
PROT_WRITE = 0x2

# Fixed answers for fd-taking calls a character device does not implement.
FD_ERRNO: dict[str, int] = {
    "fsync": errno.EINVAL, "fdatasync": errno.EINVAL, "ftruncate": errno.EINVAL,
    "getdents": errno.ENOTDIR, "getdents64": errno.ENOTDIR, "fchdir": errno.ENOTDIR,
    "readahead": errno.EINVAL, "fallocate": errno.ENODEV, "sync_file_range": errno.ESPIPE,
    "vmsplice": errno.EBADF, "tee": errno.EINVAL, "copy_file_range": errno.EINVAL,
    "fsetxattr": errno.EOPNOTSUPP, "fgetxattr": errno.ENODATA, "fremovexattr": errno.ENODATA,
    "execveat": errno.EACCES,
    **{n: errno.ENOTSOCK for n in (
        "sendto", "recvfrom", "sendmsg", "sendmmsg", "recvmsg", "recvmmsg", "shutdown",
        "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
        "setsockopt", "getsockopt",
    )},
}  # fmt: skip


class FdCalls(SyscallCore):
    def _fixed_fd_errno(self, name: str) -> Callable[[Thread, tuple[int, ...]], Outcome]:
        code = FD_ERRNO.get(name)
        argpos = seccomp.FD_SYSCALLS[name]

        def handler(t: Thread, args: tuple[int, ...]) -> Outcome:
            for i in argpos:
                f = self._file(t, args[i])
                if f is not None:
                    if code is None:
                        return ALLOW
                    self._emit(t, f"{name}({self._fdname(_s32(args[i]), f)}, ...)", -code)
                    return -code
            return ALLOW

        return handler

    def sys_close(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        """The kernel closes the real fd; we record it (graders check hygiene) and
        forget the number (a number not virtual now is in no cache: ALLOW)."""
        f = self._file(t, a[0])
        if f is None:
            return ALLOW
        if self.tracing:
            self._emit(t, calltrace.Call("close", (calltrace.Fd(_s32(a[0]), f.path),)), 0)
        return self._changing_table(NR["close"], a)

    def sys_close_range(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        """Trapped only when the range covers a watched number: forget them all."""
        return self._changing_table(NR["close_range"], a)

    def sys_fadvise64(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        if self._file(t, a[0]) is None:
            return ALLOW
        return 0 if (a[3] & 0xFFFFFFFF) <= 5 else -errno.EINVAL

    def sys_mmap(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        if a[3] & MAP_ANONYMOUS:
            return ALLOW
        f = self._file(t, a[4])
        if f is None:
            return ALLOW
        length, prot, kind = a[1], a[2], a[3] & MAP_TYPE
        if a[5] & 0xFFF or not length or kind not in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE):
            return -errno.EINVAL
        # do_mmap's access checks come before the driver's mmap: a write-only or
        # access-mode-3 fd gives EACCES, as for /dev/null
        if kind != MAP_PRIVATE and prot & PROT_WRITE and not f.writable:
            return -errno.EACCES
        if not f.readable:
            return -errno.EACCES
        return -errno.ENODEV  # no mmap in the device's file_operations

    def sys_fcntl(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        f = self._file(t, a[0])
        if f is None:
            return ALLOW
        cmd = a[1] & 0xFFFFFFFF
        if cmd == F_GETFL:
            return f.flags
        if cmd == F_SETFL:
            new = a[2] & 0xFFFFFFFF
            if new & O_DIRECT:
                return -errno.EINVAL
            f.flags = (new & SETFL_MASK) | (f.flags & ~SETFL_MASK)
            # a pushed file's reads are the kernel's: its socket needs the flags too
            return ALLOW if f.inbox is not None else 0
        if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
            return self._dup_job(t, NR["fcntl"], a)
        return ALLOW  # F_GETFD/F_SETFD, locks, owners: the kernel's, on the real fd

    def sys_dup(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return ALLOW if self._file(t, a[0]) is None else self._dup_job(t, NR["dup"], a)

    def sys_dup2(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._dup_onto(t, NR["dup2"], a)

    def sys_dup3(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._dup_onto(t, NR["dup3"], a)

    def _dup_onto(self, t: Thread, nr: int, a: tuple[int, ...]) -> Outcome:
        """dup2/dup3: trapped for a watched old fd or a watched new number. A
        virtual file at the new number is closed by it: the cache forgets it."""
        replaces = _s32(a[0]) != _s32(a[1]) and self._file(t, a[1]) is not None
        if self._file(t, a[0]) is not None:
            return self._dup_job(t, nr, a, replaces)
        return self._changing_table(nr, a) if replaces else ALLOW

    def _dup_job(self, t: Thread, nr: int, a: tuple[int, ...], replaces: bool = False) -> Job:
        """The kernel dups the real fd; we watch the new number."""
        if replaces:
            newfd = yield from self._changing_table(nr, a)
        else:
            newfd = yield Run(nr, a)
        if newfd >= 0:
            yield from self.watch(t, newfd)
        return newfd

    def sys_recvmsg(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        """A virtual fd may arrive by SCM_RIGHTS: watch every fd received."""
        if self._file(t, a[0]) is not None:
            return -errno.ENOTSOCK
        try:
            controllen = struct.unpack("<Q", read_memory(t.tid, a[1] + 40, 8))[0]
        except OSError:
            return ALLOW  # the kernel answers EFAULT
        return ALLOW if controllen == 0 else self._recv_job(t, NR["recvmsg"], a, 1)

    def sys_recvmmsg(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        if self._file(t, a[0]) is not None:
            return -errno.ENOTSOCK
        return self._recv_job(t, NR["recvmmsg"], a, None)

    def _recv_job(self, t: Thread, nr: int, a: tuple[int, ...], count: int | None) -> Job:
        res = yield Run(nr, a)
        if res <= 0:
            return res
        # struct msghdr is 56 bytes; struct mmsghdr adds msg_len and padding (64)
        headers = [a[1]] if count is not None else [a[1] + 64 * i for i in range(res)]
        for header in headers:
            for fd in self._scm_fds(t, header):
                if self.vfs.file_of(t.tid, fd) is not None:
                    yield from self.watch(t, fd)
        return res

    def _scm_fds(self, t: Thread, msghdr: int) -> list[int]:
        try:
            control, controllen = struct.unpack("<QQ", read_memory(t.tid, msghdr + 32, 16))
            data = read_memory(t.tid, control, min(controllen, 65536)) if control else b""
        except OSError:
            return []
        fds: list[int] = []
        off = 0
        while off + 16 <= len(data):
            length, level, kind = struct.unpack_from("<Qii", data, off)
            if length < 16:
                break
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                n = (min(length, len(data) - off) - 16) // 4
                fds += struct.unpack_from(f"<{n}i", data, off + 16)
            off += (length + 7) & ~7
        return fds
