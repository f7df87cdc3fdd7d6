"""The device framework: what a device author writes against.

Modelled on the kernel's `struct file_operations`: a `Device` is the driver
(module parameters, its nodes, `open`), and each open returns a `DeviceFile`
(the open file description's private part) whose methods are the operations.
An operation the device does not define answers as a Linux character device
without it would: read/write -> EINVAL, ioctl -> ENOTTY, llseek -> ESPIPE,
poll -> "always readable and writable".

Nothing here knows about ptrace. A device sees a `Context`: who is calling,
the open flags, and copy_from_user/copy_to_user on the caller's memory.

Results: return an int (a byte count, 0, or any raw value a course's module
returns, even a bare -1, which the caller sees as -1 with errno EPERM exactly
as from a real module), or raise `DeviceError(errno.X)`. To sleep, raise
`Block(queue)`: the supervisor answers EAGAIN for O_NONBLOCK, otherwise parks
the caller until `queue.wake()` and then calls the operation again from the
start — like the kernel's wait_event_interruptible() loop, signals included.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from .ioctl import IO, IOR, IOW, IOWR, Ioctl

POLLIN = 0x001
POLLPRI = 0x002
POLLOUT = 0x004
POLLERR = 0x008
POLLHUP = 0x010
POLLRDNORM = 0x040
POLLWRNORM = 0x100
DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2

#: `major = DYNAMIC_MAJOR`: the sandbox picks a free major at load, as the kernel's
#: register_chrdev(0, ...) does; `major_number` (and dmesg) tell which
DYNAMIC_MAJOR = -1

__all__ = [
    "DEFAULT_POLLMASK", "DYNAMIC_MAJOR", "IO", "IOR", "IOW", "IOWR", "POLLERR", "POLLHUP",
    "POLLIN", "POLLOUT", "POLLPRI", "POLLRDNORM", "POLLWRNORM", "SEEK_CUR", "SEEK_END",
    "SEEK_SET", "Block",
    "Context", "Device", "DeviceError", "DeviceFile", "Inbox", "Ioctl", "NodeSpec", "Param",
    "ParamError", "PollTable", "WaitQueue",
]  # fmt: skip


class DeviceError(Exception):
    """An operation failed with a kernel errno (the caller sees -1 / errno)."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(code, message or os.strerror(code))
        self.errno = code


class Block(Exception):
    """The operation must sleep until `queue` is woken, then run again.

    `interrupted`, if given, is called when a signal wakes the sleeping caller
    before the kernel decides between EINTR and a restart: a driver whose call
    is still in flight elsewhere (a hosted kernel module) finishes it there and
    returns its result, or None to let the signal interrupt the call."""

    def __init__(
        self, queue: WaitQueue, interrupted: Callable[[], int | None] | None = None
    ) -> None:
        super().__init__()
        self.queue = queue
        self.interrupted = interrupted


class WaitQueue:
    """A kernel-style wait queue: who to notify when the condition may have changed.

    The supervisor adds a waiter (a callable) for each parked thread and each
    file that polls this queue; `wake()` calls them. Waiters of parked threads
    remove themselves; poll waiters stay until their file is released.
    """

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._waiters: dict[object, Callable[[], None]] = {}

    def add(self, key: object, callback: Callable[[], None]) -> None:
        self._waiters[key] = callback

    def remove(self, key: object) -> None:
        self._waiters.pop(key, None)

    def wake(self) -> None:
        for callback in list(self._waiters.values()):
            callback()

    def __len__(self) -> int:
        return len(self._waiters)


class PollTable(Protocol):
    """Passed to `DeviceFile.poll`; `wait(queue)` is the kernel's poll_wait()."""

    def wait(self, queue: WaitQueue) -> None: ...


class Context(Protocol):
    """The caller of an operation, as a driver sees `current` and `file`."""

    pid: int  # the thread-group id, what userspace calls the pid
    tgid: int
    tid: int
    flags: int  # the open file's f_flags (O_ACCMODE, O_NONBLOCK, ...)
    pos: int  # the file position for this call (read/write/llseek update it)

    @property
    def comm(self) -> str: ...

    def copy_from_user(self, addr: int, size: int) -> bytes:
        """The caller's bytes; raises DeviceError(EFAULT) on a bad pointer."""
        ...

    def copy_to_user(self, addr: int, data: bytes) -> None:
        """Write to the caller's memory; raises DeviceError(EFAULT) on a bad pointer."""
        ...

    def strncpy_from_user(self, addr: int, limit: int) -> bytes:
        """A NUL-terminated string of at most `limit` bytes (EFAULT, or ENAMETOOLONG)."""
        ...

    def user_writable(self, addr: int, size: int) -> bool:
        """Is [addr, addr+size) mapped writable in the caller (access_ok and more)?"""
        ...

    def has_fd(self, fd: int) -> bool:
        """Is `fd` an open file descriptor of the caller?"""
        ...


class Inbox(Protocol):
    """A pushed read queue (see DeviceFile.wants_inbox): what the file's reads
    will return, one message per read, served by the kernel itself.

    A read takes one whole message; a shorter buffer gets its head and the rest
    is dropped (as SOCK_SEQPACKET and a record kfifo do). A read into a bad
    buffer fails with EFAULT and the message is gone too. Blocking, O_NONBLOCK,
    signals and poll are the kernel's own."""

    def push(self, message: bytes) -> bool:
        """Queue one message for the reader; False if there is no room for it."""
        ...

    def unread(self) -> int:
        """How many pushed messages the reader has not read yet (asks the kernel)."""
        ...

    def unread_at_most(self) -> int:
        """An upper bound of unread(), known without asking (reads only lower it)."""
        ...

    def unread_bytes(self) -> int:
        """The bytes of the messages unread() counts (call unread() first)."""
        ...

    @property
    def taken(self) -> int:
        """Messages the reader has read so far (as of the last unread())."""
        ...

    @property
    def taken_bytes(self) -> int: ...


class DeviceFile:
    """One open file description of a device. Override the operations you support."""

    #: a stream device: lseek and pread/pwrite give ESPIPE (the kernel's stream_open)
    stream: ClassVar[bool] = True

    def wants_inbox(self) -> bool:
        """Pushed reads: True if this file's reads only ever take the next queued
        message, so the device may put each message in its inbox (attach_inbox) as it is
        delivered and let the kernel serve read(), its blocking and poll without
        calling `read` (the "pushed" read path: a read costs no supervisor work).
        Devices whose read depends on state at read time keep `read`. The
        supervisor may say no (a traced run records reads): then attach_inbox is
        not called and `read` is called as usual."""
        return False

    def attach_inbox(self, inbox: Inbox) -> None:
        """The pushed read queue of this file (after open, when wants_inbox() said yes)."""

    def read_pushed(self, ctx: Context) -> None:
        """A read of a pushed file is about to run (in the kernel, from the inbox)."""

    def read(self, ctx: Context, buf: int, count: int) -> int:
        raise DeviceError(errno.EINVAL)

    def write(self, ctx: Context, buf: int, count: int) -> int:
        raise DeviceError(errno.EINVAL)

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        raise DeviceError(errno.ENOTTY)

    def llseek(self, ctx: Context, offset: int, whence: int) -> int:
        raise DeviceError(errno.ESPIPE)

    def poll(self, pt: PollTable) -> int:
        return DEFAULT_POLLMASK

    def release(self) -> None:
        """The last reference to this open file is gone (close, exit, exec, kill)."""

    def describe(self) -> dict[str, Any]:
        """What `status` shows about this open file."""
        return {}


# --------------------------------------------------------------------------
# Module parameters


@dataclass(frozen=True)
class Param:
    """A module_param: a typed, bounded, documented load-time setting."""

    name: str
    default: Any
    help: str
    type: type = int
    min: int | None = None
    max: int | None = None
    choices: Sequence[str] | None = None
    #: how listings show the value: "" as is, "ioctl" as a command (0x4008eb00, _IOW(235, 0, 8))
    show: str = ""

    def parse(self, raw: Any) -> Any:
        value: Any
        if self.type is int:
            try:
                value = int(raw, 0) if isinstance(raw, str) else int(raw)
            except (TypeError, ValueError):
                raise ParamError(f"{self.name}: {raw!r} is not an integer") from None
            if self.min is not None and value < self.min:
                raise ParamError(f"{self.name}={value} is below the minimum {self.min}")
            if self.max is not None and value > self.max:
                raise ParamError(f"{self.name}={value} is above the maximum {self.max}")
        elif self.type is bool:
            text = str(raw).lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "y", "n", "on", "off"):
                raise ParamError(f"{self.name}: {raw!r} is not a boolean")
            value = text in ("1", "true", "yes", "y", "on")
        else:
            value = str(raw)
            if self.choices is not None and value not in self.choices:
                raise ParamError(f"{self.name}={value} is not one of: {', '.join(self.choices)}")
        return value


class ParamError(ValueError):
    """A parameter the device refuses at load, as a module's init would."""


# --------------------------------------------------------------------------
# Devices


@dataclass(frozen=True)
class NodeSpec:
    """A device file the driver creates at load (like device_create / udev)."""

    path: str
    minor: int = 0
    mode: int = 0o666


@dataclass
class Device:
    """A driver. Subclasses set `name`, `major`, `params` and implement `open`."""

    name: ClassVar[str] = "device"
    description: ClassVar[str] = ""
    major: ClassVar[int] = 0
    params: ClassVar[tuple[Param, ...]] = ()
    #: the node created at load (the `path` parameter); None: nodes come from mknod
    default_path: ClassVar[str | None] = ""

    config: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = field(default=lambda line: None, repr=False)
    assigned_major: int = field(default=0, repr=False)  # a DYNAMIC_MAJOR's, set at load

    def __post_init__(self) -> None:
        self.config = self.load_params(self.config)

    @classmethod
    def all_params(cls) -> tuple[Param, ...]:
        if cls.default_path is None:
            return cls.params
        where = cls.default_path or f"/dev/{cls.name}"
        return (Param("path", where, "where the device node appears", str), *cls.params)

    @classmethod
    def load_params(cls, raw: dict[str, Any]) -> dict[str, Any]:
        known = {p.name.lower(): p for p in cls.all_params()}
        values = {p.name: p.default for p in known.values()}
        for key, val in raw.items():
            p = known.get(key.lower())
            if p is None:
                names = ", ".join(sorted(known))
                raise ParamError(f"{cls.name} has no parameter {key!r} (it has: {names})")
            values[p.name] = p.parse(val)
        return values

    def __getitem__(self, name: str) -> Any:
        return self.config[name]

    @property
    def major_number(self) -> int:
        """The major this instance registered (a parameter for some drivers)."""
        if self.assigned_major:
            return self.assigned_major
        return int(self.config.get("major", self.major))

    def nodes(self) -> Iterator[NodeSpec]:
        """The nodes made at load (like device_create); mknod can add more."""
        if "path" in self.config:
            yield NodeSpec(str(self.config["path"]), 0)

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        """A new open file of the node with this minor and inode number."""
        raise NotImplementedError

    def ioctls(self) -> dict[int, Ioctl]:
        """The driver's ioctl commands by number, with names traces show (see ioctl.py)."""
        return {}

    def syscalls(self) -> dict[int, Callable[[Context, tuple[int, ...]], int]]:
        """New syscalls this driver adds: number -> handler(ctx, args)."""
        return {}

    def native_call(self, nr: int, ctx: Context, args: tuple[int, ...]) -> bool:
        """For a number of ours that is also a real syscall here: is this call the
        real one (its arguments say so)? Then the kernel runs it, not our handler."""
        return False

    def collision_rule(self, nr: int) -> str:
        """How native_call tells the real syscall at `nr` from ours ('' if it does not)."""
        return ""

    def event_fds(self) -> dict[int, Callable[[], None]]:
        """File descriptors the supervisor's loop watches for this driver, each with
        what to call when it is readable (a hosted module's replies)."""
        return {}

    def exit(self) -> None:
        """rmmod, or the end of a private run: the driver's module_exit. Raises
        DeviceError(EBUSY) to refuse."""

    def task_exit(self, tid: int, tgid: int) -> None:
        """A thread (tid) of process tgid ended; tid == tgid: the whole process is gone."""

    def in_use(self) -> bool:
        """Refuse unloading while true (rmmod's EBUSY)."""
        return False

    def holds_state(self) -> bool:
        """True while the device keeps data worth a namespace staying up for."""
        return False

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view of what the device holds (for `status`)."""
        return {}
