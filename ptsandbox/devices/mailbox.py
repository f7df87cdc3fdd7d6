"""mailbox: two new syscalls, mysend(pid, n, buf) and myreceive(pid, n, buf).

From seeds/mailbox.txt. Not a device file: a driver that adds syscalls, at
numbers that are parameters. The defaults, 400 and 401, lie in the x86_64
numbering hole that no real syscall uses (337-423 today: the hole used to
start at 335, but Linux 6.11 and 6.16 took 335 and 336 for uretprobe and
uprobe). Old-kernel course programs used 292 and 293, which are dup3 and
pipe2 today (glibc's pipe() calls pipe2, so a barrier's own pipe() would be
taken for myreceive). At those two numbers a call is told apart by its
arguments, a rule that cannot take a mailbox call for the real one:

  pipe2(fds, flags)       the real call iff `flags` lies within O_CLOEXEC |
                          O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE and
                          `fds` points to 8 writable mapped bytes at or above
                          PID_MAX_LIMIT (2^22): a pid is always below that.
  dup3(old, new, flags)   the real call iff `flags` lies within O_CLOEXEC,
                          `old` is an open fd of the caller and 0 <= new <
                          2^20: a mailbox call's third argument is its buffer,
                          a pointer, never 0 or O_CLOEXEC (a NULL buffer is
                          EFAULT for a mailbox call anyway).

Any other real number is shadowed outright for the traced programs. A
warning names every collision at load, and the grade report repeats it.

  mysend(pid, n, buf)     0 <= n <= MSG_MAX bytes to process `pid`.
                          ESRCH no such process; EINVAL bad n; EFAULT bad buf.
                          rendezvous: sleeps until a receiver took it, then
                          returns n. queued: returns n at once.
  myreceive(pid, n, buf)  the oldest message from `pid` (from anyone if
                          pid < 0) into buf: returns the bytes copied, at most
                          n (the rest of a longer message is discarded).
                          Nothing there: sleeps (rendezvous, and queued with
                          receive=block) or returns 0 (queued, receive=zero).
                          EINVAL n < 0; EFAULT bad buf (the message stays).

Sleeping follows a device read: a signal gives EINTR, or restarts with
SA_RESTART; Ctrl-C ends the program. A rendezvous sender interrupted by a
signal gets EINTR and its message stays queued. A process's undelivered mail
dies with it; so does a rendezvous sender's unreceived letter, while queued
letters outlive their sender (that is what queuing is for).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .base import Block, Context, Device, DeviceError, Param, WaitQueue


@dataclass(eq=False)
class Letter:
    sender: int
    receiver: int
    data: bytes
    sender_tid: int
    delivered: bool = False


@dataclass(eq=False)
class Box:
    pid: int
    letters: list[Letter] = field(default_factory=list)
    arrived: WaitQueue = field(default_factory=lambda: WaitQueue("mail"))


# pipe2's flags: O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE (= O_EXCL)
PIPE2_FLAGS = os.O_CLOEXEC | os.O_NONBLOCK | os.O_DIRECT | os.O_EXCL
PID_MAX_LIMIT = 1 << 22  # include/linux/threads.h: no pid reaches it


def _signed(value: int, bits: int = 32) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class Mailbox(Device):
    name: ClassVar[str] = "mailbox"
    description: ClassVar[str] = "new syscalls mysend/myreceive between processes"
    default_path: ClassVar[str | None] = None
    params: ClassVar[tuple[Param, ...]] = (
        Param("mysend_nr", 400, "syscall number of mysend", int, 0, 1023),
        Param("myreceive_nr", 401, "syscall number of myreceive", int, 0, 1023),
        Param("mode", "rendezvous", "mysend blocks until received, or queues", str,
              choices=("rendezvous", "queued")),
        Param("receive", "zero", "queued mode, nothing to receive: return 0 or block", str,
              choices=("zero", "block")),
        Param("MSG_MAX", 4096, "largest message (bytes)", int, 1, 1 << 20),
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        if self["mysend_nr"] == self["myreceive_nr"]:
            from .base import ParamError

            raise ParamError("mysend_nr and myreceive_nr must differ")
        self.boxes: dict[int, Box] = {}
        self.delivered = WaitQueue("delivered")  # rendezvous senders wait here
        self.pending: dict[int, Letter] = {}  # rendezvous: sender tid -> its letter
        self.sent = 0
        self.received = 0

    def shadowed(self) -> list[tuple[int, str]]:
        """Real syscalls hidden by our numbers (for the load-time warning)."""
        from ..sysnr import NAMES

        return [(nr, NAMES[nr]) for nr in (self["mysend_nr"], self["myreceive_nr"]) if nr in NAMES]

    def native_call(self, nr: int, ctx: Context, args: tuple[int, ...]) -> bool:
        from ..sysnr import NAMES

        real = NAMES.get(nr)
        if real == "pipe2":
            flags, fds = args[1], args[0]  # all 64 bits: a pointer's low half may be 0
            return not flags & ~PIPE2_FLAGS and fds >= PID_MAX_LIMIT and ctx.user_writable(fds, 8)
        if real == "dup3":
            old, new, flags = _signed(args[0]), _signed(args[1]), args[2]
            return not flags & ~os.O_CLOEXEC and 0 <= new < 1 << 20 and ctx.has_fd(old)
        return False

    def collision_rule(self, nr: int) -> str:
        from ..sysnr import NAMES

        real = NAMES.get(nr)
        if real == "pipe2":
            return "a call with pipe2's arguments (a writable int[2], pipe flags) runs as pipe2"
        if real == "dup3":
            return "a call with dup3's arguments (an open fd, a fd, O_CLOEXEC or 0) runs as dup3"
        return ""

    def syscalls(self) -> dict[int, Callable[[Context, tuple[int, ...]], int]]:
        return {self["mysend_nr"]: self.mysend, self["myreceive_nr"]: self.myreceive}

    def _box(self, pid: int) -> Box:
        box = self.boxes.get(pid)
        if box is None:
            box = self.boxes[pid] = Box(pid)
        return box

    def mysend(self, ctx: Context, args: tuple[int, ...]) -> int:
        pid, n, buf = _signed(args[0]), _signed(args[1]), args[2]
        rendezvous = self["mode"] == "rendezvous"
        mine = self.pending.get(ctx.tid)
        if rendezvous and mine is not None:  # woken (or restarted): was it taken?
            if mine.delivered:
                del self.pending[ctx.tid]
                return len(mine.data)
            raise Block(self.delivered)
        if n < 0 or n > self["MSG_MAX"]:
            raise DeviceError(errno.EINVAL)
        if pid <= 0 or not _process_exists(pid):
            raise DeviceError(errno.ESRCH)
        letter = Letter(ctx.tgid, pid, ctx.copy_from_user(buf, n), ctx.tid)
        box = self._box(pid)
        box.letters.append(letter)
        box.arrived.wake()
        self.sent += 1
        self.log(f"{ctx.tgid} -> {pid}: {n} bytes")
        if rendezvous:
            self.pending[ctx.tid] = letter
            raise Block(self.delivered)
        return n

    def myreceive(self, ctx: Context, args: tuple[int, ...]) -> int:
        pid, n, buf = _signed(args[0]), _signed(args[1]), args[2]
        if n < 0:
            raise DeviceError(errno.EINVAL)
        box = self._box(ctx.tgid)
        letter = next((x for x in box.letters if pid < 0 or x.sender == pid), None)
        if letter is None:
            if self["mode"] == "queued" and self["receive"] == "zero":
                return 0
            raise Block(box.arrived)
        data = letter.data[:n]
        ctx.copy_to_user(buf, data)  # EFAULT: the letter stays
        box.letters.remove(letter)
        letter.delivered = True
        self.received += 1
        self.delivered.wake()
        return len(data)

    def task_exit(self, tid: int, tgid: int) -> None:
        letter = self.pending.pop(tid, None)
        if letter is not None and not letter.delivered:
            box = self.boxes.get(letter.receiver)
            if box is not None and letter in box.letters:
                box.letters.remove(letter)
        if tid == tgid:
            self.boxes.pop(tgid, None)
            if self["mode"] == "rendezvous":
                for box in self.boxes.values():
                    box.letters = [x for x in box.letters if x.sender != tgid]

    def holds_state(self) -> bool:
        return any(b.letters for b in self.boxes.values())

    def snapshot(self) -> dict[str, Any]:
        return {
            "mode": self["mode"],
            "syscalls": {"mysend": self["mysend_nr"], "myreceive": self["myreceive_nr"]},
            "sent": self.sent,
            "received": self.received,
            "mailboxes": [
                {
                    "pid": b.pid,
                    "queued": len(b.letters),
                    "from": sorted({x.sender for x in b.letters}),
                }
                for b in self.boxes.values()
                if b.letters
            ],
            "senders_waiting": sorted(self.pending),
        }


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
