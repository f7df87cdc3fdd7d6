"""The course's CHARDEV example (the message_slot text builds on it), as a device.

The module registers with a dynamic major (register_chrdev(0, ...)): dmesg
tells which one it got ("chardev: loaded (major 254)"). It makes no node; each
open's read says how many times the device was opened, then end of file.

    ptsandbox insmod examples/chardev.py:Chardev; ptsandbox dmesg
    ptsandbox run sh -c 'mknod /tmp/chardev c MAJOR 0 && cat /tmp/chardev'
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar

from ptsandbox.devices.base import (
    DYNAMIC_MAJOR,
    SEEK_CUR,
    SEEK_END,
    SEEK_SET,
    Context,
    Device,
    DeviceError,
    DeviceFile,
)


class ChardevFile(DeviceFile):
    stream: ClassVar[bool] = False  # seekable: ctx.pos is this open's position

    def __init__(self, message: bytes) -> None:
        self.message = message

    def read(self, ctx: Context, buf: int, count: int) -> int:
        chunk = self.message[ctx.pos : ctx.pos + count]
        ctx.copy_to_user(buf, chunk)
        ctx.pos += len(chunk)
        return len(chunk)  # 0 at the end: end of file

    def llseek(self, ctx: Context, offset: int, whence: int) -> int:
        base = {SEEK_SET: 0, SEEK_CUR: ctx.pos, SEEK_END: len(self.message)}.get(whence)
        if base is None or base + offset < 0:
            raise DeviceError(errno.EINVAL)
        ctx.pos = base + offset
        return ctx.pos


class Chardev(Device):
    name: ClassVar[str] = "chardev"
    major: ClassVar[int] = DYNAMIC_MAJOR  # the sandbox picks one, as the kernel would
    default_path: ClassVar[str | None] = None  # no node: the user runs mknod

    def __post_init__(self) -> None:
        super().__post_init__()
        self.opened = 0

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        self.opened += 1
        self.log(f"opened {self.opened} times (mknod NODE c {self.major_number} 0 to talk to me)")
        return ChardevFile(f"I already told you {self.opened} times Hello world!\n".encode())

    def snapshot(self) -> dict[str, Any]:
        return {"opened": self.opened}
