"""read, write and their positioned and vectored forms, ioctl, lseek, and the
splice family: the calls that reach the device's file operations."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import logging
import os
import struct

from .. import calltrace
from ..devices.base import Block, DeviceError, DeviceFile
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


RWF_HIPRI = 0x1  # the one preadv2/pwritev2 flag a driver with only read/write accepts
_TASK_SIZE_4LEVEL = (1 << 47) - 4096  # TASK_SIZE_MAX with 4-level page tables
_TASK_SIZE_5LEVEL = (1 << 56) - 4096


@functools.cache
def user_addr_max() -> int:
    """The end of user address space that access_ok() allows (x86-64 TASK_SIZE_MAX).

    Asked of the kernel once: a 1-byte write to /dev/null just below the 4-level
    limit passes the range check only when the kernel uses 5-level page tables
    (/dev/null never touches the buffer)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.write.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    libc.write.restype = ctypes.c_ssize_t
    try:
        fd = os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return _TASK_SIZE_4LEVEL
    try:
        return _TASK_SIZE_5LEVEL if libc.write(fd, _TASK_SIZE_4LEVEL, 1) == 1 else _TASK_SIZE_4LEVEL
    finally:
        os.close(fd)


def access_ok(addr: int, size: int) -> bool:
    """The kernel's access_ok(): the whole range lies in user address space."""
    return addr + size <= user_addr_max()


def _has_op(f: OpenFile, write: bool) -> bool:
    """FMODE_CAN_READ / FMODE_CAN_WRITE: the device has the operation at all."""
    name = "write" if write else "read"
    return getattr(type(f.dfile), name) is not getattr(DeviceFile, name)


class ReadWriteCalls(SyscallCore):
    """The checks are the kernel's (fs/read_write.c), in its order: a negative
    offset before the fd (EINVAL), pread/pwrite on a stream (ESPIPE), the access
    mode (EBADF), a device without the operation (EINVAL), the user range
    (access_ok: EFAULT), the file position (rw_verify_area: EINVAL); only then is
    the count clamped to MAX_RW_COUNT and the device called."""

    def sys_read(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=False)

    def sys_write(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=True)

    def sys_pread64(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=False, offset=a[3])

    def sys_pwrite64(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return self._rw(t, a[0], a[1], a[2], write=True, offset=a[3])

    def _rw_file(self, t: Thread, fd: int, write: bool, offset: int | None) -> OpenFile | int:
        """The file, or -errno from the checks that come before the buffer's."""
        f = self._file(t, fd)
        if f is None:
            return 0
        if offset is not None:
            if offset >= 1 << 63:
                return -errno.EINVAL  # a negative offset, refused before the fd is looked at
            if f.dfile.stream:
                return -errno.ESPIPE  # no FMODE_PREAD / FMODE_PWRITE
        if not (f.writable if write else f.readable):
            return -errno.EBADF
        if not _has_op(f, write):
            return -errno.EINVAL
        return f

    @staticmethod
    def _bad_position(f: OpenFile, pos: int, count: int) -> bool:
        """rw_verify_area(): a position (stream files have none) must stay in loff_t."""
        return not f.dfile.stream and (pos < 0 or pos + count >= 1 << 63)

    def _rw(
        self, t: Thread, fd: int, buf: int, count: int, write: bool, offset: int | None = None
    ) -> Outcome:
        f = self._rw_file(t, fd, write, offset)
        if isinstance(f, int):
            return f if f else ALLOW
        if not access_ok(buf, count):
            return -errno.EFAULT
        if self._bad_position(f, f.pos if offset is None else offset, count):
            return -errno.EINVAL
        if f.inbox is not None and not write:
            return self._read_pushed(t, f)
        return self._rw_device(t, fd, f, buf, min(count, MAX_RW_COUNT), write, offset)

    def _read_pushed(self, t: Thread, f: OpenFile) -> Outcome:
        """A read of a pushed file: the kernel takes the next packet of its socket
        (blocking, O_NONBLOCK, signals as for any socket); the device only hears of it."""
        self.before_device_op()
        if f.released:
            return -errno.EBADF
        try:
            f.dfile.read_pushed(CallContext(t, f, f.pos))
        except DeviceError as e:
            return -e.errno
        return ALLOW

    def _rw_device(
        self, t: Thread, fd: int, f: OpenFile, buf: int, count: int, write: bool, offset: int | None
    ) -> Outcome:
        """One read or write of the device, checks done."""
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
        if not self.tracing:  # the hot path: no record to render
            return self._device_op(t, _s32(fd), f, name, lambda ctx: op(ctx, buf, count), offset)
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
        # offset -1: the file position, as readv; flags are the sixth argument
        offset = None if a[3] == (1 << 64) - 1 else a[3]
        return self._rwv(t, a, write=False, offset=offset, flags=a[5] & 0xFFFFFFFF)

    def sys_pwritev2(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        offset = None if a[3] == (1 << 64) - 1 else a[3]
        return self._rwv(t, a, write=True, offset=offset, flags=a[5] & 0xFFFFFFFF)

    def _rwv(
        self, t: Thread, a: tuple[int, ...], write: bool, offset: int | None, flags: int = 0
    ) -> Outcome:
        """Vectored I/O on a device with only read/write: one call per segment,
        stopping at a short transfer (the kernel's do_loop_readv_writev)."""
        f = self._rw_file(t, a[0], write, offset)
        if isinstance(f, int):
            return f if f else ALLOW
        segments = self._import_iovec(t, a[1], a[2])
        if isinstance(segments, int):
            return segments
        total = sum(n for _, n in segments)
        if not total:
            return 0  # before the flags are looked at, as in the kernel
        if self._bad_position(f, f.pos if offset is None else offset, total):
            return -errno.EINVAL
        if flags & ~RWF_HIPRI:
            return -errno.EOPNOTSUPP  # no RWF_NOWAIT (FMODE_NOWAIT), RWF_SYNC, ... in a loop
        if f.inbox is not None and not write:
            return self._read_pushed(t, f)  # one packet, scattered over the buffers
        segments = [(b, n) for b, n in segments if n]
        fd = _s32(a[0])
        first_base, first_len = segments[0]
        first = self._rw_device(t, fd, f, first_base, first_len, write, offset)
        if not isinstance(first, int) or first != first_len or len(segments) == 1:
            return first
        done = first
        for base, length in segments[1:]:
            pos = None if offset is None else offset + done
            ctx = CallContext(t, f, f.pos if pos is None else pos)
            op = f.dfile.write if write else f.dfile.read
            try:
                n = op(ctx, base, length)
            except (DeviceError, Block):
                break  # later segments never sleep: return what was transferred
            if pos is None:
                f.pos = ctx.pos
            done += n
            if n != length:
                break
        self.vfs.mark_dirty(f)
        self.vfs.sync_readiness([(t.tid, fd, f)])
        return done

    @staticmethod
    def _import_iovec(t: Thread, vec: int, iovcnt: int) -> list[tuple[int, int]] | int:
        """The kernel's import_iovec(): the segments, their total clamped to
        MAX_RW_COUNT, each clamped one checked with access_ok (the order Linux
        6.18 shows; the 5.x sources check the unclamped length); or -errno."""
        if iovcnt == 0:
            return []
        if iovcnt > IOV_MAX:
            return -errno.EINVAL
        try:
            raw = read_memory(t.tid, vec, 16 * iovcnt)
        except OSError:
            return -errno.EFAULT
        segments = [struct.unpack_from("<QQ", raw, 16 * i) for i in range(iovcnt)]
        if any(n >= 1 << 63 for _, n in segments):
            return -errno.EINVAL  # a length negative as ssize_t
        out: list[tuple[int, int]] = []
        total = 0
        for base, n in segments:
            n = min(n, MAX_RW_COUNT - total)
            if not access_ok(base, n):
                return -errno.EFAULT
            out.append((base, n))
            total += n
        return out

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
            return ALLOW if f.inbox is not None else 0  # a pushed file's socket too
        if cmd == FIOASYNC:
            return -errno.ENOTTY  # no fasync in the device
        if cmd == FIOQSIZE:
            return -errno.ENOTTY
        if cmd == FIGETBSZ:
            return self._write_out(t, arg, struct.pack("<i", 4096))
        if not self.tracing:  # the hot path: no record to render
            return self._device_op(t, _s32(a[0]), f, "ioctl", lambda c: f.dfile.ioctl(c, cmd, arg))
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
        known = f.node.device.ioctls().get(cmd) if f.node.device else None
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
