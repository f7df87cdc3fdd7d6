"""read, write and their positioned and vectored forms, ioctl, lseek, and the
splice family: the calls that reach the device's file operations."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import struct

from .. import calltrace
from ..devices.base import Block, DeviceError
from ..tracer import (
    ALLOW,
    Outcome,
    Thread,
    read_memory,
    read_string,
)
from ..vfs import O_PATH, OpenFile
from .core import (
    FIGETBSZ,
    FIOASYNC,
    FIOCLEX,
    FIONBIO,
    FIONCLEX,
    FIOQSIZE,
    IOV_MAX,
    MAX_RW_COUNT,
    CallContext,
    SyscallCore,
    _s32,
)

log = logging.getLogger("ptsandbox.syscalls")

_WHENCE: dict[int, calltrace.Arg] = {
    0: calltrace.Sym("SEEK_SET", 0), 1: calltrace.Sym("SEEK_CUR", 1),
    2: calltrace.Sym("SEEK_END", 2),
}  # fmt: skip


class ReadWriteCalls(SyscallCore):
    def sys_read(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=False)

    def sys_write(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=True)

    def sys_pread64(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=False, offset=a[3])

    def sys_pwrite64(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=True, offset=a[3])

    def _rw(
        self, t: Thread, fd: int, buf: int, count: int, write: bool, offset: int | None = None
    ) -> Outcome:
        f = self._file(t, fd)
        if f is None:
            return ALLOW
        if not (f.writable if write else f.readable):
            return -errno.EBADF
        if offset is not None:
            if f.dfile.stream:
                return -errno.ESPIPE
            if offset >= 1 << 63:
                return -errno.EINVAL
        count = min(count, MAX_RW_COUNT)
        if count >= 1 << 63:
            return -errno.EINVAL
        name = (
            ("pwrite64" if write else "pread64")
            if offset is not None
            else ("write" if write else "read")
        )

        def render(res: int) -> calltrace.Call:
            shown = min(count, calltrace.MAX_STRING + 1) if write else max(0, min(res, 65))
            data: calltrace.Arg
            try:
                data = calltrace.Str(read_memory(t.tid, buf, shown) if shown else b"")
            except OSError:
                data = calltrace.Sym(f"{buf:#x}", buf)
            args: tuple[calltrace.Arg, ...] = (calltrace.Fd(_s32(fd), f.path), data, count)
            args += (offset,) if offset is not None else ()
            return calltrace.Call(name, args, None if write else 1)

        op = f.dfile.write if write else f.dfile.read
        raw = (fd, buf, count) + ((offset,) if offset is not None else ())
        return self._device_op(
            t, _s32(fd), f, name, lambda ctx: op(ctx, buf, count), offset, render, raw
        )

    def sys_readv(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rwv(t, a, write=False, offset=None)

    def sys_writev(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rwv(t, a, write=True, offset=None)

    def sys_preadv(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rwv(t, a, write=False, offset=a[3])

    def sys_pwritev(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rwv(t, a, write=True, offset=a[3])

    def sys_preadv2(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        # offset -1: the file position, as readv
        return self._rwv(t, a, write=False, offset=None if a[3] == (1 << 64) - 1 else a[3])

    def sys_pwritev2(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rwv(t, a, write=True, offset=None if a[3] == (1 << 64) - 1 else a[3])

    def _rwv(self, t: Thread, a: tuple[int, ...], write: bool, offset: int | None) -> Outcome:
        """Vectored I/O on a device with only read/write: one call per segment,
        stopping at a short transfer (the kernel's do_loop_readv_writev)."""
        f = self._file(t, a[0])
        if f is None:
            return ALLOW
        if not (f.writable if write else f.readable):
            return -errno.EBADF
        iovcnt = a[2]
        if iovcnt > IOV_MAX:
            return -errno.EINVAL
        if offset is not None and f.dfile.stream:
            return -errno.ESPIPE
        try:
            raw = read_memory(t.tid, a[1], 16 * iovcnt)
        except OSError:
            return -errno.EFAULT
        segments = [struct.unpack_from("<QQ", raw, 16 * i) for i in range(iovcnt)]
        if sum(n for _, n in segments) > MAX_RW_COUNT:
            return -errno.EINVAL
        segments = [(b, n) for b, n in segments if n]
        if not segments:
            return 0
        fd = _s32(a[0])
        first_base, first_len = segments[0]
        first = self._rw(t, fd, first_base, first_len, write, offset)
        if not isinstance(first, int) or first != first_len or len(segments) == 1:
            return first
        total = first
        for base, length in segments[1:]:
            pos = None if offset is None else offset + total
            ctx = CallContext(t, f, f.pos if pos is None else pos)
            op = f.dfile.write if write else f.dfile.read
            try:
                n = op(ctx, base, length)
            except (DeviceError, Block):
                break  # later segments never sleep: return what was transferred
            if pos is None:
                f.pos = ctx.pos
            total += n
            if n != length:
                break
        self.vfs.mark_dirty(f)
        self.vfs.sync_readiness([(t.tid, fd, f)])
        return total

    def sys_ioctl(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        f = self._file(t, a[0])
        if f is None:
            return ALLOW
        cmd, arg = a[1] & 0xFFFFFFFF, a[2]
        if f.flags & O_PATH:
            return -errno.EBADF
        if cmd in (FIOCLEX, FIONCLEX):
            return ALLOW  # close-on-exec is the fd's, kept by the kernel
        if cmd == FIONBIO:
            try:
                on = struct.unpack("<i", read_memory(t.tid, arg, 4))[0]
            except OSError:
                return -errno.EFAULT
            f.flags = f.flags | os.O_NONBLOCK if on else f.flags & ~os.O_NONBLOCK
            return 0
        if cmd == FIOASYNC:
            return -errno.ENOTTY  # no fasync in the device
        if cmd == FIOQSIZE:
            return -errno.ENOTTY
        if cmd == FIGETBSZ:
            return self._write_out(t, arg, struct.pack("<i", 4096))
        return self._device_op(
            t,
            _s32(a[0]),
            f,
            "ioctl",
            lambda ctx: f.dfile.ioctl(ctx, cmd, arg),
            None,
            lambda res: self._ioctl_call(t, _s32(a[0]), f, cmd, arg),
            (a[0], cmd, arg),
        )

    def _ioctl_call(self, t: Thread, fd: int, f: OpenFile, cmd: int, arg: int) -> calltrace.Call:
        """ioctl as strace shows it: the device's name for the command, and its
        argument as the device declares it (a string, an integer, an address)."""
        known = f.node.device.ioctls().get(cmd)
        shown: calltrace.Arg = calltrace.Sym(f"{arg:#x}", arg)
        if known is not None and known.arg == "int":
            shown = arg
        elif known is not None and known.arg == "string":
            with contextlib.suppress(OSError):  # a bad pointer: shown as the address
                shown = calltrace.Str(read_string(t.tid, arg, calltrace.MAX_STRING + 1))
        name = known.name if known is not None else None
        return calltrace.Call(
            "ioctl", (calltrace.Fd(fd, f.path), calltrace.ioctl_cmd(cmd, name), shown)
        )

    def sys_lseek(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        f = self._file(t, a[0])
        if f is None:
            return ALLOW
        if f.dfile.stream:
            return -errno.ESPIPE
        whence = a[2] & 0xFFFFFFFF
        offset = a[1] - (1 << 64) if a[1] & (1 << 63) else a[1]
        return self._device_op(
            t,
            _s32(a[0]),
            f,
            "llseek",
            lambda ctx: f.dfile.llseek(ctx, offset, whence),
            None,
            lambda res: calltrace.Call(
                "lseek", (calltrace.Fd(_s32(a[0]), f.path), offset, _WHENCE.get(whence, whence))
            ),
            (a[0], offset, whence),
        )

    def sys_sendfile(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        out_f, in_f = self._file(t, a[0]), self._file(t, a[1])
        if in_f is None and out_f is None:
            return ALLOW
        if in_f is not None and not in_f.readable:
            return -errno.EBADF
        if out_f is not None and not out_f.writable:
            return -errno.EBADF
        return -errno.EINVAL  # no splice_read / splice_write

    def sys_splice(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        in_f, out_f = self._file(t, a[0]), self._file(t, a[2])
        if in_f is None and out_f is None:
            return ALLOW
        if in_f is not None and not in_f.readable:
            return -errno.EBADF
        if out_f is not None and not out_f.writable:
            return -errno.EBADF
        return -errno.EINVAL
