"""A device call context over a bytearray: device unit tests need no tracee."""

from __future__ import annotations

import errno

from ptsandbox.devices.base import DeviceError

BUF = 0x1000  # where the fake user memory starts


class MemContext:
    """A caller whose user memory is a bytearray at [BUF, BUF+len)."""

    def __init__(self, pid: int, size: int = 4096) -> None:
        self.pid = self.tgid = self.tid = pid
        self.flags = 2
        self.pos = 0
        self.mem = bytearray(size)

    @property
    def comm(self) -> str:
        return "test"

    def _slice(self, addr: int, size: int) -> slice:
        if addr < BUF or addr + size > BUF + len(self.mem):
            raise DeviceError(errno.EFAULT)
        return slice(addr - BUF, addr - BUF + size)

    def user_writable(self, addr: int, size: int) -> bool:
        return addr >= BUF and addr + size <= BUF + len(self.mem)

    def has_fd(self, fd: int) -> bool:
        return fd in (0, 1, 2)

    def copy_from_user(self, addr: int, size: int) -> bytes:
        return bytes(self.mem[self._slice(addr, size)])

    def copy_to_user(self, addr: int, data: bytes) -> None:
        self.mem[self._slice(addr, len(data))] = data

    def strncpy_from_user(self, addr: int, limit: int) -> bytes:
        data = self.copy_from_user(addr, min(limit + 1, BUF + len(self.mem) - addr))
        nul = data.find(b"\0")
        if nul < 0:
            raise DeviceError(errno.ENAMETOOLONG)
        return data[:nul]
