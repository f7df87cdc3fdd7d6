"""/dev/mq: named mailboxes with circular queues (seeds/mq_readme.txt).

Each write is one command (at most CMD_BUF_SIZE - 1 bytes, else EINVAL; a
trailing newline is ignored):

  /reg NAME        register the caller under NAME (1..7 chars, no spaces)
  /unr             unregister the caller, dropping its queue
  /msg DEST TEXT   queue "SENDER: TEXT" for DEST
  /all TEXT        queue "SENDER: TEXT" for every other registered caller

A successful command returns the bytes written. A read returns and removes the
caller's oldest message, "SENDER: TEXT" (the sender's name is kept with each
message); a buffer shorter than the message gets its head and the rest is
discarded. Callers are keyed by thread id, as in the original (`key=pid`
switches to the process id); a thread or process that ends is unregistered.

errno: /reg: caller or name already registered EEXIST, table full (MAX_DEVICES)
ENOMEM, bad name EINVAL; /msg: sender not registered EACCES, missing dest or
text EINVAL, unknown dest ENOENT; /all: sender not registered EACCES, missing
text EINVAL; /unr: not registered ENOENT; unknown command EINVAL; read:
caller not registered ENOENT, empty queue EAGAIN (or, with `blocking=1` and
without O_NONBLOCK, sleeps until a message comes).

A full queue overwrites its oldest message, as the original's circular buffer
does; every overwrite is counted. Beyond the original: poll/select report
POLLIN when the queue of the caller registered through that open file holds
a message, and reads may block (`blocking`).
"""

from __future__ import annotations

import errno
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .base import (
    POLLIN,
    POLLOUT,
    POLLRDNORM,
    POLLWRNORM,
    Block,
    Context,
    Device,
    DeviceError,
    DeviceFile,
    Param,
    PollTable,
    WaitQueue,
)

NAME_MAX = 7


@dataclass(eq=False)
class Mailbox:
    key: int
    name: str
    queue: deque[bytes] = field(default_factory=deque)
    wait: WaitQueue = field(default_factory=lambda: WaitQueue("mq"))
    overwritten: int = 0
    received: int = 0


class MqFile(DeviceFile):
    def __init__(self, mq: Mq) -> None:
        self.mq = mq
        self.registered_key: int | None = None  # whose queue poll() reports

    def write(self, ctx: Context, buf: int, count: int) -> int:
        if count >= self.mq["CMD_BUF_SIZE"]:
            raise DeviceError(errno.EINVAL)
        text = ctx.copy_from_user(buf, count).decode(errors="replace").rstrip("\n\0")
        cmd, _, rest = text.partition(" ")
        key = self.mq.key_of(ctx)
        if cmd == "/reg":
            self.mq.register(key, rest.strip())
            self.registered_key = key
        elif cmd == "/unr":
            self.mq.unregister(key)
        elif cmd == "/msg":
            dest, _, body = rest.strip().partition(" ")
            self.mq.send(key, dest, body)
        elif cmd == "/all":
            self.mq.broadcast(key, rest.strip())
        else:
            raise DeviceError(errno.EINVAL)
        return count

    def read(self, ctx: Context, buf: int, count: int) -> int:
        box = self.mq.boxes.get(self.mq.key_of(ctx))
        if box is None:
            raise DeviceError(errno.ENOENT)
        if not box.queue:
            if self.mq["blocking"]:
                raise Block(box.wait)
            raise DeviceError(errno.EAGAIN)
        message = box.queue[0][:count]
        ctx.copy_to_user(buf, message)
        box.queue.popleft()
        box.received += 1
        return len(message)

    def poll(self, pt: PollTable) -> int:
        mask = POLLOUT | POLLWRNORM
        box = self.mq.boxes.get(self.registered_key) if self.registered_key is not None else None
        if box is not None:
            pt.wait(box.wait)
            if box.queue:
                mask |= POLLIN | POLLRDNORM
        pt.wait(self.mq.registrations)
        return mask

    def describe(self) -> dict[str, Any]:
        box = self.mq.boxes.get(self.registered_key) if self.registered_key is not None else None
        return {"registered_as": box.name if box else None}


class Mq(Device):
    name: ClassVar[str] = "mq"
    description: ClassVar[str] = "named mailboxes: /reg, /unr, /msg, /all, read"
    major: ClassVar[int] = 236
    params: ClassVar[tuple[Param, ...]] = (
        Param("MAX_DEVICES", 8, "maximum number of registered callers", int, 1, 20),
        Param("QUEUE_LEN", 8, "messages per queue (the oldest is overwritten)", int, 3, 20),
        Param("CMD_BUF_SIZE", 256, "maximum command size, including the NUL", int, 16, 4096),
        Param("key", "tid", "callers are told apart by thread or process id", str,
              choices=("tid", "pid")),
        Param("blocking", False, "a read of an empty queue sleeps instead of EAGAIN", bool),
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        self.boxes: dict[int, Mailbox] = {}
        self.registrations = WaitQueue("registrations")  # woken when boxes come and go
        self.overwritten = 0
        self.sent = 0

    def key_of(self, ctx: Context) -> int:
        return ctx.tid if self["key"] == "tid" else ctx.tgid

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        return MqFile(self)

    def _by_name(self, name: str) -> Mailbox | None:
        return next((b for b in self.boxes.values() if b.name == name), None)

    def register(self, key: int, name: str) -> None:
        if not name or len(name) > NAME_MAX or " " in name:
            raise DeviceError(errno.EINVAL)
        if key in self.boxes or self._by_name(name) is not None:
            raise DeviceError(errno.EEXIST)
        if len(self.boxes) >= self["MAX_DEVICES"]:
            raise DeviceError(errno.ENOMEM)
        self.boxes[key] = Mailbox(key, name)
        self.log(f"registered {name} ({self['key']} {key})")
        self.registrations.wake()

    def unregister(self, key: int) -> None:
        box = self.boxes.pop(key, None)
        if box is None:
            raise DeviceError(errno.ENOENT)
        self.log(f"unregistered {box.name}")
        box.wait.wake()
        self.registrations.wake()

    def _sender(self, key: int) -> Mailbox:
        box = self.boxes.get(key)
        if box is None:
            raise DeviceError(errno.EACCES)
        return box

    def _deliver(self, sender: Mailbox, to: Mailbox, text: str) -> None:
        if len(to.queue) >= self["QUEUE_LEN"]:
            to.queue.popleft()  # the circular buffer overwrites the oldest
            to.overwritten += 1
            self.overwritten += 1
        to.queue.append(f"{sender.name}: {text}".encode())
        self.sent += 1
        to.wait.wake()

    def send(self, key: int, dest: str, text: str) -> None:
        sender = self._sender(key)
        if not dest or not text:
            raise DeviceError(errno.EINVAL)
        to = self._by_name(dest)
        if to is None:
            raise DeviceError(errno.ENOENT)
        self._deliver(sender, to, text)

    def broadcast(self, key: int, text: str) -> None:
        sender = self._sender(key)
        if not text:
            raise DeviceError(errno.EINVAL)
        for box in list(self.boxes.values()):
            if box is not sender:
                self._deliver(sender, box, text)

    def task_exit(self, tid: int, tgid: int) -> None:
        if self["key"] == "tid" or tid == tgid:
            key = tid if self["key"] == "tid" else tgid
            box = self.boxes.pop(key, None)
            if box is not None:
                self.log(f"{box.name} unregistered: its {self['key']} {key} ended")
                box.wait.wake()
                self.registrations.wake()

    def holds_state(self) -> bool:
        return bool(self.boxes)

    def snapshot(self) -> dict[str, Any]:
        return {
            "key": self["key"],
            "sent": self.sent,
            "overwritten": self.overwritten,
            "registered": [
                {
                    "name": b.name,
                    self["key"]: b.key,
                    "queued": len(b.queue),
                    "received": b.received,
                    "overwritten": b.overwritten,
                }
                for b in self.boxes.values()
            ],
        }
