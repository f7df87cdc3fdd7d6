"""/dev/chatroom: every open joins the room with its own FIFO of messages.

Behaviour (seeds/chatroom.txt, with the choices the text leaves open):

open     joins: a member with an empty FIFO and the opener's pid as its name.
ioctl    CHATROOM_IOC_SET_NAME (cprogs/chatroom.h): `arg` points to a
         NUL-terminated name of 1..31 bytes. EFAULT bad pointer, EINVAL empty
         or too long. Any other command: ENOTTY.
         The "NAME joined the room" notice goes to the others at the member's
         first ioctl, read or write, so that a name set right after open is the
         one announced (clients without the ioctl are announced by pid).
write    one message, "NAME: text", to every *other* member; returns `count`.
         0 bytes: nothing is sent, returns 0. More than MSG_MAX: EMSGSIZE.
         EFAULT bad buffer. EBADF if opened read-only (checked by the VFS).
read     one whole message, removed from the FIFO; a buffer shorter than the
         message gets its first `count` bytes and the rest is discarded (as a
         record kfifo and SOCK_SEQPACKET do). Empty FIFO: blocks, or EAGAIN with
         O_NONBLOCK. EFAULT bad buffer (the message stays queued).
         Pushed reads (reads=pushed with full=drop-newest, the defaults; see
         DeviceFile.wants_inbox): the FIFO is the reader's socket and read() is
         the kernel's: the same, except that EFAULT loses the message, readv
         fills its buffers from one message, and a 0-byte read takes nothing.
poll     POLLIN when the FIFO holds a message; always POLLOUT.
release  the last close leaves: "NAME left" goes to the others.

A full FIFO follows the `full` parameter: drop-newest (the kernel kfifo's
natural behaviour: kfifo_in() fails), drop-oldest, or block (the writer sleeps
until every recipient has room; notices never block and drop the newest).
Every drop is counted per member and shown by `status`.
"""

from __future__ import annotations

import errno
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .base import (
    IOW,
    POLLIN,
    POLLOUT,
    POLLRDNORM,
    POLLWRNORM,
    Block,
    Context,
    Device,
    DeviceError,
    DeviceFile,
    Inbox,
    Ioctl,
    Param,
    PollTable,
    WaitQueue,
)

NAME_MAX = 32  # including the NUL, as in cprogs/chatroom.h
CHATROOM_IOC_SET_NAME = IOW("k", 1, NAME_MAX)


@dataclass(eq=False)
class Member:
    id: int
    pid: int
    name: str
    fifo: deque[bytes] = field(default_factory=deque)
    arrivals: WaitQueue = field(default_factory=lambda: WaitQueue("inbox"))
    announced: bool = False
    received: int = 0
    received_bytes: int = 0
    sent: int = 0
    dropped: int = 0

    pushed: Inbox | None = None  # pushed reads: the FIFO is the reader's socket

    @property
    def queued(self) -> int:
        return self.pushed.unread() if self.pushed is not None else len(self.fifo)

    @property
    def queued_bytes(self) -> int:
        if self.pushed is not None:
            self.pushed.unread()
            return self.pushed.unread_bytes()
        return sum(len(m) for m in self.fifo)

    def full(self, limit: int) -> bool:
        if self.pushed is None:
            return len(self.fifo) >= limit
        # the bound is exact but for reads since the last look: ask only near the limit
        return self.pushed.unread_at_most() >= limit and self.pushed.unread() >= limit

    def counts(self) -> tuple[int, int]:
        """(messages, bytes) read so far."""
        if self.pushed is not None:
            self.pushed.unread()
            return self.pushed.taken, self.pushed.taken_bytes
        return self.received, self.received_bytes


class ChatroomFile(DeviceFile):
    def __init__(self, room: Chatroom, member: Member) -> None:
        self.room = room
        self.member = member

    def wants_inbox(self) -> bool:
        # reads only take the next message, unless the device must see each read:
        # drop-oldest takes back a queued message, block wakes writers on reads
        return bool(self.room["full"] == "drop-newest" and self.room["reads"] == "pushed")

    def attach_inbox(self, inbox: Inbox) -> None:
        self.member.pushed = inbox

    def read_pushed(self, ctx: Context) -> None:
        self._announce()

    def _announce(self) -> None:
        if not self.member.announced:
            self.member.announced = True
            self.room.notice(self.member, f"{self.member.name} joined the room")

    def read(self, ctx: Context, buf: int, count: int) -> int:
        self._announce()
        me = self.member
        if not me.fifo:
            raise Block(me.arrivals)
        message = me.fifo[0][:count]
        ctx.copy_to_user(buf, message)  # EFAULT leaves the message queued
        me.fifo.popleft()
        me.received += 1
        me.received_bytes += len(message)
        self.room.space.wake()
        return len(message)

    def write(self, ctx: Context, buf: int, count: int) -> int:
        self._announce()
        if count == 0:
            return 0
        if count > self.room["msg_max"]:
            raise DeviceError(errno.EMSGSIZE)
        text = ctx.copy_from_user(buf, count)
        message = self.member.name.encode() + b": " + text
        self.room.broadcast(self.member, message, may_block=True)
        self.member.sent += 1
        return count

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        if cmd != CHATROOM_IOC_SET_NAME:
            raise DeviceError(errno.ENOTTY)
        try:
            raw = ctx.strncpy_from_user(arg, NAME_MAX - 1)
        except DeviceError as e:
            raise DeviceError(errno.EINVAL if e.errno == errno.ENAMETOOLONG else e.errno) from e
        if not raw:
            raise DeviceError(errno.EINVAL)
        self.member.name = raw.decode(errors="replace")
        self._announce()
        return 0

    def poll(self, pt: PollTable) -> int:
        pt.wait(self.member.arrivals)
        mask = POLLOUT | POLLWRNORM
        if self.member.fifo:
            mask |= POLLIN | POLLRDNORM
        return mask

    def release(self) -> None:
        self.room.leave(self.member)

    def describe(self) -> dict[str, Any]:
        m = self.member
        return {"member": m.name, "queued": m.queued, "dropped": m.dropped}


class Chatroom(Device):
    name: ClassVar[str] = "chatroom"
    description: ClassVar[str] = "a chat room: every open is a member, a write goes to the others"
    major: ClassVar[int] = 240
    params: ClassVar[tuple[Param, ...]] = (
        Param("queue_len", 64, "messages each member's FIFO holds", int, 1, 1 << 20),
        Param("msg_max", 1024, "longest message text a write may carry (bytes)", int, 1, 1 << 20),
        Param(
            "full",
            "drop-newest",
            "what a write does when a recipient's FIFO is full",
            str,
            choices=("drop-newest", "drop-oldest", "block"),
        ),
        Param(
            "reads",
            "pushed",
            "pushed: each message goes into the reader's file as it is delivered and "
            "read() is the kernel's own (drop-newest only); emulated: every read is a "
            "device call",
            str,
            choices=("pushed", "emulated"),
        ),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.members: list[Member] = []
        self.space = WaitQueue("space")  # woken when any FIFO shrinks
        self._ids = itertools.count(1)
        self.messages = 0
        self.dropped = 0

    def ioctls(self) -> dict[int, Ioctl]:
        return {CHATROOM_IOC_SET_NAME: Ioctl("CHATROOM_IOC_SET_NAME", "string")}

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        member = Member(next(self._ids), ctx.tgid, str(ctx.tgid))
        self.members.append(member)
        self.log(f"member {member.id} joined (pid {ctx.tgid})")
        return ChatroomFile(self, member)

    def leave(self, member: Member) -> None:
        self.members.remove(member)
        self.log(f"member {member.id} ({member.name}) left")
        if member.announced:
            self.notice(member, f"{member.name} left")
        self.space.wake()  # a blocked writer may have been waiting on this member

    def notice(self, about: Member, text: str) -> None:
        self.broadcast(about, text.encode(), may_block=False)

    def broadcast(self, sender: Member, message: bytes, may_block: bool) -> None:
        others = [m for m in self.members if m is not sender]
        limit = self["queue_len"]
        policy = self["full"]
        if policy == "block" and may_block and any(m.full(limit) for m in others):
            raise Block(self.space)
        self.messages += 1
        for m in others:
            if m.full(limit):
                m.dropped += 1
                self.dropped += 1
                if policy != "drop-oldest":
                    continue
                m.fifo.popleft()
            if m.pushed is not None:
                if not m.pushed.push(message):  # its socket's buffer is full
                    m.dropped += 1
                    self.dropped += 1
                continue
            m.fifo.append(message)
            m.arrivals.wake()

    def snapshot(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "dropped": self.dropped,
            "members": [self._member_view(m) for m in self.members],
        }

    @staticmethod
    def _member_view(m: Member) -> dict[str, Any]:
        received, received_bytes = m.counts()
        return {
            "id": m.id,
            "pid": m.pid,
            "name": m.name,
            "queued": m.queued,
            "queued_bytes": m.queued_bytes,
            "received": received,
            "received_bytes": received_bytes,
            "sent": m.sent,
            "dropped": m.dropped,
            "reads": "pushed" if m.pushed is not None else "emulated",
        }
