"""A course variant of /dev/chatroom whose read returns 0 instead of blocking.

Several courses' modules do this: with nothing queued, read() gives 0 bytes and
the client loops. Every open is a member; a write goes to every other member as
"NAME: text"; `ioctl(fd, CHATROOM_IOC_SET_NAME, name)` names the member
(`_IOW('k', 1, char[32])`, as cprogs/chatroom.h). Try it:

    ptsandbox run --device examples/chatroom_read_zero.py:ReadZeroChatroom ./joinchat P1
"""

from __future__ import annotations

import errno
from collections import deque
from typing import Any, ClassVar

from ptsandbox.devices.base import IOW, Context, Device, DeviceError, DeviceFile, Ioctl, Param

NAME_MAX = 32
CHATROOM_IOC_SET_NAME = IOW("k", 1, NAME_MAX)


class MemberFile(DeviceFile):
    def __init__(self, room: ReadZeroChatroom, pid: int) -> None:
        self.room = room
        self.name = str(pid)
        self.fifo: deque[bytes] = deque(maxlen=room["queue_len"])  # full: the oldest goes

    def read(self, ctx: Context, buf: int, count: int) -> int:
        if not self.fifo:
            return 0  # the module's "nothing for you yet"
        message = self.fifo.popleft()[:count]
        ctx.copy_to_user(buf, message)
        return len(message)

    def write(self, ctx: Context, buf: int, count: int) -> int:
        text = ctx.copy_from_user(buf, count)
        for other in self.room.members:
            if other is not self:
                other.fifo.append(self.name.encode() + b": " + text)
        return count

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        if cmd != CHATROOM_IOC_SET_NAME:
            raise DeviceError(errno.ENOTTY)
        self.name = ctx.strncpy_from_user(arg, NAME_MAX - 1).decode(errors="replace")
        return 0

    def release(self) -> None:
        self.room.members.remove(self)

    def describe(self) -> dict[str, Any]:
        return {"member": self.name, "queued": len(self.fifo)}


class ReadZeroChatroom(Device):
    name: ClassVar[str] = "chatroom"  # given with --device, it takes the built-in's place
    description: ClassVar[str] = "a chat room whose read returns 0 when empty"
    major: ClassVar[int] = 240
    params: ClassVar[tuple[Param, ...]] = (Param("queue_len", 16, "messages per member", int, 1),)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.members: list[MemberFile] = []

    def ioctls(self) -> dict[int, Ioctl]:
        return {CHATROOM_IOC_SET_NAME: Ioctl("CHATROOM_IOC_SET_NAME", "string")}

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        member = MemberFile(self, ctx.tgid)
        self.members.append(member)
        return member
