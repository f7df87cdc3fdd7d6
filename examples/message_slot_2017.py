"""message_slot as the 2017 course set it: a slot per *minor*, the channel by value.

That year's header: `#define MAJOR_NUM 244`, `#define MSG_SLOT_CHANNEL
_IOW(MAJOR_NUM, 0, unsigned long)`; 4 channels of 128 bytes; a read of a channel
never written is EWOULDBLOCK, a buffer too small for the message ENOSPC. The
module makes no node: `mknod /dev/slot1 c 244 1` does, inside a run.

    ptsandbox run --device examples/message_slot_2017.py:MessageSlot2017 sh
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar

from ptsandbox.devices.base import IOW, Context, Device, DeviceError, DeviceFile, Ioctl, Param

MAJOR_NUM = 244
MSG_SLOT_CHANNEL = IOW(MAJOR_NUM, 0, 8)  # unsigned long
BUF_LEN = 128


class SlotFile(DeviceFile):
    def __init__(self, driver: MessageSlot2017, slot: list[bytes]) -> None:
        self.driver = driver
        self.slot = slot
        self.channel: int | None = None  # per open file, as file->private_data

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        if cmd != MSG_SLOT_CHANNEL or not 0 <= arg < self.driver["channels"]:
            raise DeviceError(errno.EINVAL)
        self.channel = arg  # passed by value: arg is the channel itself
        return 0

    def write(self, ctx: Context, buf: int, count: int) -> int:
        if self.channel is None:
            raise DeviceError(errno.EINVAL)
        self.slot[self.channel] = ctx.copy_from_user(buf, min(count, BUF_LEN))
        return len(self.slot[self.channel])

    def read(self, ctx: Context, buf: int, count: int) -> int:
        if self.channel is None:
            raise DeviceError(errno.EINVAL)
        message = self.slot[self.channel]
        if not message:
            raise DeviceError(errno.EWOULDBLOCK)
        if count < len(message):
            raise DeviceError(errno.ENOSPC)
        ctx.copy_to_user(buf, message)
        return len(message)


class MessageSlot2017(Device):
    name: ClassVar[str] = "message_slot"  # takes the built-in's place
    major: ClassVar[int] = MAJOR_NUM
    default_path: ClassVar[str | None] = None  # nodes come from mknod
    params: ClassVar[tuple[Param, ...]] = (Param("channels", 4, "channels per slot", int, 1, 64),)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.slots: dict[int, list[bytes]] = {}  # minor -> its channels

    def ioctls(self) -> dict[int, Ioctl]:
        return {MSG_SLOT_CHANNEL: Ioctl("MSG_SLOT_CHANNEL", "int")}

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        if minor not in self.slots:
            self.slots[minor] = [b""] * self["channels"]
            self.log(f"new slot for minor {minor}")
        return SlotFile(self, self.slots[minor])

    def holds_state(self) -> bool:
        return any(any(slot) for slot in self.slots.values())

    def snapshot(self) -> dict[str, Any]:
        return {"slots": {str(m): [len(c) for c in slot] for m, slot in self.slots.items()}}
