"""message_slot: a driver whose device files each hold a slot of message channels.

Device files are made with mknod (`mknod /dev/message_slot c 235 0` inside the
sandbox, or `ptsandbox mknod`) or declared with the `nodes` parameter. One
slot per device file, keyed by the file's inode, as the text's
`file->f_inode->i_ino`: two nodes are two slots even with the same minor, and
hard links (`ln`) share one. Minors are not used. The channel is per open
file, chosen by ioctl. Reads never consume a message.

Two profiles, every value of which is also a parameter of its own:

seed (seeds/message_slot.txt): channels 0..3, 128-byte buffers.
  ioctl  wrong command, or index outside [channel_min, channel_max]: EINVAL
  write  no channel: EINVAL; bad buffer: EFAULT. Copies min(count, 128)
         bytes, zero-fills the rest of the buffer, returns the bytes copied.
  read   no channel: EINVAL; bad buffer: EFAULT. Copies min(count, 128) bytes
         of the buffer (zeros where nothing was written) and returns that.
tau (the 2019+ variant: "a non-zero channel id"): any id >= 1, at most
  max_channels (2^20) distinct channels per slot, messages of 1..128 bytes.
  ioctl  wrong command, or id 0: EINVAL. MSG_SLOT_CHANNEL is
         _IOW(235, 0, unsigned long); the `unsigned int` encoding of the same
         command is accepted too (accept_both_sizes), as headers differ.
  write  checks in `checks` order: no channel EINVAL, 0 or >128 bytes
         EMSGSIZE, bad buffer EFAULT; a write that would create channel
         max_channels+1 of a slot: ENOMEM. Atomic; returns the length.
  read   no channel EINVAL, channel never written EWOULDBLOCK, buffer smaller
         than the message ENOSPC, bad buffer EFAULT; returns the length.

Course variants, parameters of either profile:
  major     the course header's MAJOR_NUM; the set-channel command follows it
            (_IOW(major, 0, unsigned long)) unless ioctl_cmd is given.
  mode_cmd  a second ioctl that sets the open file's write mode (2019):
            argument 0 overwrite (the default), 1 append; anything else
            EINVAL. In append mode a write adds to the channel's message; a
            result longer than msg_max: EMSGSIZE (tau) or cut to msg_max (seed).
  censor_cmd  an ioctl that turns the open file's censorship on (1) or off
            (0) (2025); anything else EINVAL. A censored write stores every
            censor_every-th byte (the 3rd, 6th, ...) as censor_char.
  A command value below 256 is an ioctl number: the command is then
  _IOW(major, value, unsigned long), either size of the argument accepted.

Memory: a channel costs its message (<= 128 bytes) plus ~150 bytes of Python
bookkeeping, so a slot full of 2^20 channels of 128 bytes holds ~290 MB.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .base import Context, Device, DeviceError, DeviceFile, Ioctl, NodeSpec, Param

_IOC_WRITE = 1


def iow(type_: int, nr: int, size: int) -> int:
    """The kernel's _IOW(type, nr, size)."""
    return (_IOC_WRITE << 30) | (size << 16) | (type_ << 8) | nr


def _with_size(cmd: int, size: int) -> int:
    return (cmd & ~(0x3FFF << 16)) | (size << 16)


PROFILES: dict[str, dict[str, Any]] = {
    "seed": {
        "channel_min": 0, "channel_max": 3, "msg_max": 128, "min_write": 0,
        "zero_fill": True, "truncate": True,
        "checks": "channel,fault",
    },
    "tau": {
        "channel_min": 1, "channel_max": (1 << 32) - 1, "msg_max": 128, "min_write": 1,
        "zero_fill": False, "truncate": False,
        "checks": "channel,size,empty,space,fault",
    },
}  # fmt: skip

READ_CHECKS = ("channel", "empty", "space", "fault")
WRITE_CHECKS = ("channel", "size", "fault")


@dataclass
class Slot:
    inode: int
    channels: dict[int, bytes] = field(default_factory=dict)
    writes: int = 0
    reads: int = 0


class SlotFile(DeviceFile):
    stream: ClassVar[bool] = False  # like the seed's module: no nonseekable_open

    def __init__(self, driver: MessageSlot, slot: Slot) -> None:
        self.driver = driver
        self.slot = slot
        self.channel: int | None = None
        self.append = False  # mode_cmd
        self.censor = False  # censor_cmd

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        if cmd in self.driver.mode_commands or cmd in self.driver.censor_commands:
            if arg not in (0, 1):
                raise DeviceError(errno.EINVAL)
            if cmd in self.driver.mode_commands:
                self.append = bool(arg)
            else:
                self.censor = bool(arg)
            return 0
        if cmd not in self.driver.commands:
            raise DeviceError(errno.EINVAL)
        if not self.driver["channel_min"] <= arg <= self.driver["channel_max"]:
            raise DeviceError(errno.EINVAL)
        self.channel = arg
        return 0

    def write(self, ctx: Context, buf: int, count: int) -> int:
        d = self.driver
        msg_max: int = d["msg_max"]
        for check in d.check_order(WRITE_CHECKS):
            if check == "channel" and self.channel is None:
                raise DeviceError(errno.EINVAL)
            too_short_or_long = count < d["min_write"] or count > msg_max
            if check == "size" and not d["truncate"] and too_short_or_long:
                raise DeviceError(errno.EMSGSIZE)
        assert self.channel is not None
        old = self.slot.channels.get(self.channel, b"").rstrip(b"\0") if self.append else b""
        if self.append and not d["truncate"] and len(old) + count > msg_max:
            raise DeviceError(errno.EMSGSIZE)
        size = min(count, msg_max - len(old))
        data = ctx.copy_from_user(buf, size)  # EFAULT: the old message stays
        is_new = self.channel not in self.slot.channels
        if is_new and len(self.slot.channels) >= d["max_channels"]:
            raise DeviceError(errno.ENOMEM)
        if self.censor:
            every, mark = d["censor_every"], d["censor_char"].encode()[:1] or b"#"
            data = bytes(mark[0] if (i + 1) % every == 0 else c for i, c in enumerate(data))
        data = old + data
        if d["zero_fill"]:
            data = data.ljust(msg_max, b"\0")
        self.slot.channels[self.channel] = data
        self.slot.writes += 1
        return size

    def read(self, ctx: Context, buf: int, count: int) -> int:
        d = self.driver
        message = None
        for check in d.check_order(READ_CHECKS):
            if check == "channel" and self.channel is None:
                raise DeviceError(errno.EINVAL)
            if check == "empty":
                message = self._message()
                if message is None:
                    raise DeviceError(errno.EWOULDBLOCK)
            if check == "space" and not d["truncate"]:
                message = self._message()
                if message is not None and count < len(message):
                    raise DeviceError(errno.ENOSPC)
        message = self._message()
        if message is None:  # the seed's buffers exist from the start, zeroed
            message = b"\0" * d["msg_max"] if d["zero_fill"] else b""
        data = message[:count] if d["truncate"] else message
        ctx.copy_to_user(buf, data)
        self.slot.reads += 1
        return len(data)

    def _message(self) -> bytes | None:
        assert self.channel is not None
        return self.slot.channels.get(self.channel)

    def describe(self) -> dict[str, Any]:
        return {"slot": self.slot.inode, "channel": self.channel}


class MessageSlot(Device):
    name: ClassVar[str] = "message_slot"
    description: ClassVar[str] = "message slots: per-file channels of preserved messages"
    major: ClassVar[int] = 235
    default_path: ClassVar[str | None] = None
    params: ClassVar[tuple[Param, ...]] = (
        Param("profile", "seed", "the assignment's rules", str, choices=tuple(PROFILES)),
        Param("major", 235, "major number registered (mknod c MAJOR MINOR)", int, 1, 511),
        Param("nodes", "", "nodes made at load: PATH[@MINOR] separated by ';'", str),
        Param(
            "ioctl_cmd",
            iow(235, 0, 8),
            "the set-channel ioctl command",
            int,
            0,
            (1 << 32) - 1,
            show="ioctl",
        ),
        Param("accept_both_sizes", True, "also accept the command with a 4-byte size field", bool),
        Param("channel_min", -1, "lowest channel (default: the profile's)", int),
        Param("channel_max", -1, "highest channel (default: the profile's)", int),
        Param("msg_max", -1, "message buffer size (default: 128)", int, -1, 1 << 20),
        Param("max_channels", 1 << 20, "distinct channels one slot may hold", int, 1, 1 << 30),
        Param("checks", "", "order of error checks, e.g. channel,size,empty,space,fault", str),
        Param("mode_cmd", 0, "ioctl setting write mode 0/1 (append; <256: nr), 0: none", int,
              0, (1 << 32) - 1),
        Param("censor_cmd", 0, "ioctl setting censorship 0/1 (<256: nr), 0: none", int,
              0, (1 << 32) - 1),
        Param("censor_every", 3, "censorship replaces every Nth byte", int, 1, 1 << 20),
        Param("censor_char", "#", "what a censored byte becomes", str),
    )  # fmt: skip

    def __post_init__(self) -> None:
        given = {key.lower() for key in self.config}
        super().__post_init__()
        profile = PROFILES[self.config["profile"]]
        for key, value in profile.items():
            if self.config.get(key) in (-1, "", None):
                self.config[key] = value
        for key in ("zero_fill", "truncate", "min_write"):
            self.config[key] = profile[key]
        order = [c.strip() for c in str(self.config["checks"]).split(",") if c.strip()]
        unknown = set(order) - set(READ_CHECKS) - set(WRITE_CHECKS)
        if unknown:
            from .base import ParamError

            raise ParamError(f"checks: unknown check(s) {', '.join(sorted(unknown))}")
        self._order = order
        major = self.config["major"]
        if "ioctl_cmd" not in given:  # the header's _IOW(MAJOR_NUM, 0, ...)
            self.config["ioctl_cmd"] = iow(major, 0, 8)
        self.commands = self._command_set(self.config["ioctl_cmd"])
        self.mode_commands = self._command_set(self.config["mode_cmd"])
        self.censor_commands = self._command_set(self.config["censor_cmd"])
        self.slots: dict[int, Slot] = {}

    def _command_set(self, cmd: int) -> set[int]:
        """The command and (accept_both_sizes) its other argument size; below 256 an nr."""
        if cmd == 0:
            return set()
        if cmd < 256:
            cmd = iow(self.config["major"], cmd, 8)
        if self.config["accept_both_sizes"]:
            return {cmd, _with_size(cmd, 4), _with_size(cmd, 8)}
        return {cmd}

    def check_order(self, allowed: tuple[str, ...]) -> list[str]:
        return [c for c in self._order if c in allowed]

    def ioctls(self) -> dict[int, Ioctl]:
        return {cmd: Ioctl("MSG_SLOT_CHANNEL", "int") for cmd in self.commands}

    def nodes(self) -> Iterator[NodeSpec]:
        for item in filter(None, (s.strip() for s in str(self.config["nodes"]).split(";"))):
            path, _, minor = item.partition("@")
            yield NodeSpec(path, int(minor or 0))

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        slot = self.slots.get(inode)
        if slot is None:
            slot = self.slots[inode] = Slot(inode)
            self.log(f"slot allocated for inode {inode}")
        return SlotFile(self, slot)

    def holds_state(self) -> bool:
        return any(s.channels for s in self.slots.values())

    def snapshot(self) -> dict[str, Any]:
        return {
            "profile": self.config["profile"],
            "slots": [
                {
                    "inode": s.inode,
                    "writes": s.writes,
                    "reads": s.reads,
                    "channels": {
                        str(ch): {
                            "length": len(msg),
                            "preview": msg[:32].rstrip(b"\0").decode(errors="replace"),
                        }
                        for ch, msg in sorted(s.channels.items())[:64]
                    },
                    "channel_count": len(s.channels),
                }
                for s in self.slots.values()
            ],
        }


def _preview(message: bytes) -> str:
    return message[:32].rstrip(b"\0").decode(errors="replace")
