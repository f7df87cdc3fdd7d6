"""stat, statx, statfs of a virtual node, by path or by fd: the node's own
attributes (a char device with the driver's major), never the backing socket's."""

from __future__ import annotations

import logging
import os
import struct

from ..tracer import (
    ALLOW,
    Outcome,
    Thread,
)
from ..vfs import Node
from .core import SyscallCore

log = logging.getLogger("ptsandbox.syscalls")

# --------------------------------------------------------------------------
# Encoding of stat-like structures


def pack_stat(node: Node, dev: int) -> bytes:
    t = [node.atime, node.mtime, node.ctime]
    times: list[int] = []
    for x in t:
        times += [int(x), int((x % 1) * 1e9)]
    return struct.pack(
        "<QQQIIIiQqqq6q3q",
        dev, node.ino, len(node.paths) or 1, node.st_mode, node.uid, node.gid, 0,
        node.rdev, 0, 4096, 0, *times, 0, 0, 0,
    )  # fmt: skip


def pack_statx(node: Node, dev: int) -> bytes:
    def ts(x: float) -> bytes:
        return struct.pack("<qIi", int(x), int((x % 1) * 1e9), 0)

    head = struct.pack(
        "<IIQIIIHHQQQQ",
        0x7FF, 4096, 0, len(node.paths) or 1, node.uid, node.gid, node.st_mode, 0,
        node.ino, 0, 0, 0,
    )  # fmt: skip
    body = ts(node.atime) + ts(node.ctime) + ts(node.ctime) + ts(node.mtime)
    devs = struct.pack("<IIII", node.major, node.minor, os.major(dev), os.minor(dev))
    out = head + body + devs
    return out + b"\0" * (256 - len(out))


def host_statfs(path: str) -> bytes:
    """struct statfs of a host path (the directory holding a virtual node)."""
    import ctypes

    buf = ctypes.create_string_buffer(120)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.statfs(os.fsencode(path), buf) != 0:
        return b"\0" * 120
    return buf.raw


class StatCalls(SyscallCore):
    def path_stat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._write_out(t, a[1], pack_stat(node, self.vfs.dev))

    path_lstat = path_stat

    def path_newfstatat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._write_out(t, a[2], pack_stat(node, self.vfs.dev))

    def path_statx(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._write_out(t, a[4], pack_statx(node, self.vfs.dev))

    def path_statfs(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._write_out(t, a[1], host_statfs(os.path.dirname(path) or "/"))

    def empty_newfstatat(self, t: Thread, a: tuple[int, ...], node: Node) -> Outcome:
        return self._write_out(t, a[2], pack_stat(node, self.vfs.dev))

    def empty_statx(self, t: Thread, a: tuple[int, ...], node: Node) -> Outcome:
        return self._write_out(t, a[4], pack_statx(node, self.vfs.dev))

    def sys_fstat(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        f = self._file(t, a[0])
        if f is None:
            return ALLOW
        return self._write_out(t, a[1], pack_stat(f.node, self.vfs.dev))

    def sys_fstatfs(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        f = self._file(t, a[0])
        if f is None:
            return ALLOW
        return self._write_out(t, a[1], host_statfs("/dev"))
