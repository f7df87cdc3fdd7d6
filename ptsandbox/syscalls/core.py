"""What every syscall family shares: the per-call device context, per-process
bookkeeping, trace events, blocking (parking) and the watch filter per fd.

The families (`sys_paths`, `sys_stat`, `sys_read_write`, `sys_fds`) are mixins
over `SyscallCore`; `Syscalls` in `__init__` puts them together into the table.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import calltrace, notify, seccomp
from ..devices.base import Block, Context, DeviceError
from ..sysnr import NR, name_of
from ..tracer import (
    ALLOW,
    Job,
    Outcome,
    Park,
    Run,
    Scratch,
    Thread,
    Tracer,
    read_memory,
    read_string,
    same_fd_table,
    write_memory,
)
from ..vfs import OpenFile, Vfs

log = logging.getLogger("ptsandbox.syscalls")

AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_REMOVEDIR = 0x200
PATH_MAX = 4096
MAX_RW_COUNT = 0x7FFFF000  # the kernel clamps one read/write to this
COPY_LIMIT = 64 << 20  # refuse single copies larger than this (ENOMEM)
IOV_MAX = 1024
MAP_ANONYMOUS = 0x20
SETFL_MASK = os.O_APPEND | os.O_NONBLOCK | os.O_NDELAY | 0o40000 | 0o1000000 | 0o20000
O_DIRECT = 0o40000

F_DUPFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 3, 4, 1030
FIONBIO, FIOASYNC, FIOCLEX, FIONCLEX, FIOQSIZE, FIGETBSZ = 0x5421, 0x5452, 0x5451, 0x5450, 0x5460, 2

SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC = 1, 1


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


# --------------------------------------------------------------------------
# The context a device operation sees


class CallContext(Context):
    def __init__(self, thread: Thread, f: OpenFile | None, pos: int = 0) -> None:
        self.thread = thread
        self.tid = thread.tid
        self.tgid = self.pid = thread.tgid
        self.flags = f.flags if f else 0
        self.pos = pos
        self.transfers: list[tuple[str, int, bytes]] | None = None  # kept while tracing

    @property
    def comm(self) -> str:
        return self.thread.comm()

    def copy_from_user(self, addr: int, size: int) -> bytes:
        if size > COPY_LIMIT:
            raise DeviceError(errno.ENOMEM)
        try:
            data = read_memory(self.tid, addr, size)
        except OSError:
            raise DeviceError(errno.EFAULT) from None
        if self.transfers is not None:
            self.transfers.append(("in", addr, data))
        return data

    def copy_to_user(self, addr: int, data: bytes) -> None:
        try:
            write_memory(self.tid, addr, data)
        except OSError:
            raise DeviceError(errno.EFAULT) from None
        if self.transfers is not None:
            self.transfers.append(("out", addr, bytes(data)))

    def strncpy_from_user(self, addr: int, limit: int) -> bytes:
        try:
            data = read_string(self.tid, addr, limit)
        except OSError as e:
            code = errno.ENAMETOOLONG if e.errno == errno.ENAMETOOLONG else errno.EFAULT
            raise DeviceError(code) from None
        if self.transfers is not None:
            self.transfers.append(("in", addr, data + b"\0"))
        return data

    def user_writable(self, addr: int, size: int) -> bool:
        end = addr + size
        try:
            with open(f"/proc/{self.tid}/maps") as f:
                for line in f:
                    span, perms = line.split(maxsplit=2)[:2]
                    lo, hi = (int(x, 16) for x in span.split("-"))
                    if lo <= addr < hi:
                        return "w" in perms and end <= hi
        except (OSError, ValueError):
            return False
        return False

    def has_fd(self, fd: int) -> bool:
        return 0 <= fd <= 0x7FFFFFFF and os.path.lexists(f"/proc/{self.tid}/fd/{fd}")


# --------------------------------------------------------------------------
# Per-process bookkeeping


@dataclass
class ProcessInfo:
    tgid: int
    watched: set[int] = field(default_factory=set)  # fd numbers with a watch filter
    comm: str | None = None  # cached for trace events; forgotten at exec
    # every call that can change what a watched number names stops in this
    # process (its own filters, TSYNC): not so when it shares its fd table with
    # another process (CLONE_FILES without CLONE_THREAD), or when that is unknown
    cacheable: bool = False
    has_listener: bool = False  # its filter chain has a seccomp listener (notify backend)


@dataclass(frozen=True, slots=True)  # grading keeps every call: keep them small
class TraceEvent:
    """One call that touched the sandbox (`Sandbox.trace`, `run --trace`), or (kind
    "exit", only for trace sinks) a traced process ending."""

    time: float  # time.monotonic()
    pid: int
    tid: int
    syscall: str
    args: str  # decoded, strace style
    result: int | None  # None: the caller went to sleep (the call re-runs later)
    # added for strace-style output and record/replay; old readers ignore them
    kind: str = "call"  # "call", "unfinished" (went to sleep), "resumed", "exit"
    wall: float = 0.0  # time.time(), for -t timestamps
    duration: float | None = None  # seconds from entry (first entry when resumed)
    values: tuple[calltrace.Arg, ...] = ()  # the arguments, structured
    first_output: int | None = None  # values from here are outputs (see calltrace.Call)
    device: str | None = None  # the device whose operation this was
    comm: str = ""
    raw: tuple[int, ...] = ()  # the syscall's raw arguments (device operations)
    transfers: tuple[tuple[str, int, bytes], ...] = ()  # ("in"/"out", address, bytes)
    status: int | None = None  # kind "exit": the wait status

    @property
    def errno(self) -> str | None:
        return calltrace.errno_name(self.result)


@dataclass
class Parking:
    thread: Thread
    queue: Any
    since: float
    what: str
    file: OpenFile | None
    interrupted: Callable[[], int | None] | None = None


class SyscallCore:
    """State and helpers of the syscall layer; the handlers are in the families."""

    def __init__(self, tracer: Tracer, vfs: Vfs, before_device_op: Callable[[], None]) -> None:
        self.tracer = tracer
        self.vfs = vfs
        self.before_device_op = before_device_op  # drains pending releases first
        self.drivers_by_major: dict[int, Any] = {}  # for mknod(2) of a virtual node
        self.procs: dict[int, ProcessInfo] = {}
        self.parked: dict[Thread, Parking] = {}
        self.counts: Counter[str] = Counter()
        self.native_collisions: Counter[str] = Counter()  # calls at a device's number run natively
        self.extra: dict[int, Callable[[Thread, tuple[int, ...]], Outcome]] = {}
        self._trace: Callable[[Thread, TraceEvent], None] | None = None  # --trace, record
        self._events: list[TraceEvent] | None = None  # records, when asked for
        # either of them set: asked on every device call, so kept, not computed
        self.tracing = False
        self.event_hooks: list[Callable[[TraceEvent], None]] = []
        self.on_call: Callable[[Thread, str], None] | None = None  # per-stop accounting
        self._table: dict[int, Callable[[Thread, tuple[int, ...]], Outcome]] = {}
        self.call_start: dict[Thread, float] = {}  # entry time of each thread's call
        self.unfinished: dict[Thread, tuple[str, float]] = {}  # asleep: (syscall, since)
        self.last_transfers: list[tuple[str, int, bytes]] = []
        # (tid -> fd -> file) for watched fds resolved at a trap. Exact, not a
        # guess: every call that can close or replace a watched number stops
        # (close, dup2/dup3 onto it, close_range over it: see seccomp.watch_filter)
        # and empties it, as does an exec; nothing is added while such a call
        # is still running (`table_changes`).
        self.fd_cache: dict[int, dict[int, OpenFile]] = {}
        self.table_changes = 0
        # the notify backend: takes each new seccomp listener (ours to close)
        self.on_listener: Callable[[int], None] | None = None
        self.notifying = False  # serving a notification: the caller cannot run a job

    # -- dispatch ----------------------------------------------------------------

    def handle(self, t: Thread, nr: int, args: tuple[int, ...]) -> Outcome:
        name = name_of(nr)
        self.counts[name] += 1
        if self.on_call is not None:
            self.on_call(t, name)
        if self.tracing:
            self.call_start[t] = time.monotonic()
        handler = self.extra.get(nr) or self._table.get(nr)  # a driver's syscall shadows
        if handler is None:
            return ALLOW
        return handler(t, args)

    def proc(self, tgid: int) -> ProcessInfo:
        p = self.procs.get(tgid)
        if p is None:
            p = self.procs[tgid] = ProcessInfo(tgid)
        return p

    def on_new_task(self, t: Thread, parent: Thread | None) -> None:
        if parent is None:
            self.proc(t.tgid).cacheable = True  # a program we started: its table is its own
            return
        if parent.tgid == t.tgid:
            return  # a thread: its process's filters are its own too (TSYNC)
        # filters are inherited over fork: so is the set of watched fds
        child = self.proc(t.tgid)
        child.watched = set(self.proc(parent.tgid).watched)
        child.has_listener = self.proc(parent.tgid).has_listener
        if same_fd_table(parent.tid, t.tid) is False:
            child.cacheable = True
        else:
            # one table, two processes: a number watched later in one is closed
            # in the other without a stop
            child.cacheable = self.proc(parent.tgid).cacheable = False
            self.forget_fds()

    def on_exec(self, t: Thread) -> None:
        self.forget_fds()  # O_CLOEXEC files are gone
        self.proc(t.tgid).comm = None  # a new program, a new name

    def forget_fds(self) -> None:
        """Empty the (process, fd) -> file cache."""
        self.fd_cache.clear()

    def _changing_table(self, nr: int, a: tuple[int, ...]) -> Job:
        """Run a call that closes or replaces a watched number (close, dup2, dup3,
        close_range): the cache is emptied first and gets nothing until it is done."""
        self.forget_fds()
        self.table_changes += 1
        try:
            result = yield Run(nr, a)
        finally:
            self.table_changes -= 1
            self.forget_fds()
        return result

    def on_exit(self, t: Thread, status: int | None = None) -> None:
        self.fd_cache.pop(t.tid, None)
        self.unpark(t)
        self.call_start.pop(t, None)
        self.unfinished.pop(t, None)
        if t.tid == t.tgid:
            self.procs.pop(t.tgid, None)
            if status is not None and self.trace is not None:
                now = time.monotonic()
                event = TraceEvent(now, t.tgid, t.tid, "+++", "", None, kind="exit",
                                   wall=time.time(), status=status)  # fmt: skip
                self.trace(t, event)

    # -- blocking ----------------------------------------------------------------

    def park(
        self,
        t: Thread,
        queue: Any,
        what: str,
        f: OpenFile | None,
        fd: int | None = None,
        interrupted: Callable[[], int | None] | None = None,
    ) -> Outcome:
        """Put the caller to sleep until `queue` is woken (then its call runs again).

        When the file polls that queue, its readiness token follows every wake,
        so the thread sleeps in ppoll() on its own fd and the kernel wakes it;
        otherwise it sleeps on nothing and a wake interrupts it (one stop more)."""
        self.parked[t] = Parking(t, queue, time.monotonic(), what, f, interrupted)
        if fd is not None and f is not None and queue in f.poll_queues:
            return self._park_job(fd)
        queue.add(t, lambda: self.tracer.interrupt(t))
        return self._park_job(None)

    @staticmethod
    def _park_job(fd: int | None) -> Job:
        yield Park(fd)

    def signalled(self, t: Thread) -> int | None:
        """A signal woke the parked `t`: the call's final result, if its driver has one
        (else None: the kernel turns the call into EINTR or a restart)."""
        p = self.parked.get(t)
        if p is None or p.interrupted is None:
            return None
        return p.interrupted()

    def unpark(self, t: Thread) -> None:
        p = self.parked.pop(t, None)
        if p is not None:
            p.queue.remove(t)

    def wake_file_waiters(self, f: OpenFile) -> None:
        """A released file: its parked callers re-run and meet a closed fd."""
        for p in list(self.parked.values()):
            if p.file is f:
                self.tracer.interrupt(p.thread)

    @property
    def trace(self) -> Callable[[Thread, TraceEvent], None] | None:
        return self._trace

    @trace.setter
    def trace(self, sink: Callable[[Thread, TraceEvent], None] | None) -> None:
        self._trace = sink
        self.tracing = sink is not None or self._events is not None

    @property
    def events(self) -> list[TraceEvent] | None:
        return self._events

    @events.setter
    def events(self, records: list[TraceEvent] | None) -> None:
        self._events = records
        self.tracing = self._trace is not None or records is not None

    def _emit(
        self,
        t: Thread,
        call: str | calltrace.Call,
        value: int | None,
        device: str | None = None,
        raw: tuple[int, ...] = (),
    ) -> None:
        """Record one call for the trace sinks: a result, or None when it went to
        sleep (shown once as unfinished; its completion later is "resumed")."""
        if not self.tracing:
            return
        if isinstance(call, str):
            name, _, rest = call.partition("(")
            c = calltrace.Call(name, (calltrace.Sym(rest[:-1]),) if rest[:-1] else ())
        else:
            c = call
        now = time.monotonic()
        started = self.call_start.get(t, now)
        kind = "call"
        pending = self.unfinished.get(t)
        if pending is not None and pending[0] != c.name:
            pending = None  # that sleep ended in a signal; this is another call
            del self.unfinished[t]
        if value is None:
            if pending is not None:
                return  # woken, but asleep again in the same call: still unfinished
            self.unfinished[t] = (c.name, started)
            kind = "unfinished"
        elif pending is not None:
            del self.unfinished[t]
            kind, started = "resumed", pending[1]
        transfers = tuple(self.last_transfers) if device is not None else ()
        event = TraceEvent(
            now, t.tgid, t.tid, c.name, c.text, value, kind=kind, wall=time.time(),
            duration=None if value is None else now - started, values=c.args,
            first_output=c.first_output, device=device, comm=self._comm(t) if device else "",
            raw=raw, transfers=transfers,
        )  # fmt: skip
        if self.trace is not None:
            self.trace(t, event)
        if self.events is not None:
            self.events.append(event)
            for hook in self.event_hooks:
                hook(event)

    def _comm(self, t: Thread) -> str:
        p = self.proc(t.tgid)
        if p.comm is None:
            p.comm = t.comm()
        return p.comm

    def _fdname(self, fd: int, f: OpenFile) -> str:
        return f"{fd}<{f.path}>"

    def _device_op(
        self,
        t: Thread,
        fd: int,
        f: OpenFile,
        what: str,
        op: Callable[[CallContext], int],
        pos: int | None = None,
        render: Callable[[int], str | calltrace.Call] | None = None,
        raw: tuple[int, ...] = (),
    ) -> Outcome:
        """Run one device operation with the kernel's blocking and error conventions."""
        self.last_transfers = []
        outcome = self._device_op_inner(t, fd, f, what, op, pos)
        if self.tracing and render is not None:
            self._emit(
                t,
                render(outcome if isinstance(outcome, int) else 0),
                outcome if isinstance(outcome, int) else None,
                device=f.node.device.name if f.node.device else "",
                raw=raw,
            )
        return outcome

    def _device_op_inner(
        self,
        t: Thread,
        fd: int,
        f: OpenFile,
        what: str,
        op: Callable[[CallContext], int],
        pos: int | None,
    ) -> Outcome:
        self.before_device_op()
        if f.released:
            return -errno.EBADF
        ctx = CallContext(t, f, f.pos if pos is None else pos)
        if self.tracing:
            ctx.transfers = self.last_transfers
        try:
            result = op(ctx)
            if pos is None:
                f.pos = ctx.pos
        except DeviceError as e:
            result = -e.errno
        except Block as b:
            if f.nonblocking:
                result = -errno.EAGAIN
            else:
                self.vfs.mark_dirty(f)
                self.vfs.sync_readiness([(t.tid, fd, f)])
                # a token that could not be pulled would wake a ppoll() at once
                on_fd = what == "read" and not f.token_stuck
                return self.park(t, b.queue, what, f, fd if on_fd else None, b.interrupted)
        if f.inbox is None:  # a pushed file's readiness is its packets
            self.vfs.mark_dirty(f)
            self.vfs.sync_readiness([(t.tid, fd, f)])
        else:
            self.vfs.sync_readiness()  # other members' files a write made readable
        if f.token and f.token_stuck and not self.notifying:
            # (a notified caller cannot run calls: the token stays, and a poll()
            # may see the file readable once too often until the next sync)
            return self._pull_token_in_tracee(f, fd, result)
        return result

    def _pull_token_in_tracee(self, f: OpenFile, fd: int, result: int) -> Job:
        """No pidfd reaches this thread's fd table (Linux < 6.9, a thread with a
        table of its own or a leader that has exited): it takes the stale
        readiness token out of its socket itself, then gets its call's result."""
        while True:
            got = yield Run(NR["recvfrom"], (fd, Scratch(0), 16, socket.MSG_DONTWAIT, 0, 0))
            if got < 0:
                break
        if got == -errno.EAGAIN:
            f.token = f.token_stuck = False
            self.vfs.mark_dirty(f)  # readable again meanwhile? the loop sends a new one
        return result

    def device_syscall(
        self,
        name: str,
        handler: Callable[[Context, tuple[int, ...]], int],
        native: Callable[[Context, tuple[int, ...]], bool] | None = None,
        device: str = "",
    ) -> Callable[[Thread, tuple[int, ...]], Outcome]:
        """A new syscall served by a device (no fd: it blocks by interrupt wake-up).
        `native`: at a number that is also a real syscall, says which calls are
        the real one (they run natively)."""

        def serve(t: Thread, args: tuple[int, ...]) -> Outcome:
            ctx = CallContext(t, None)
            if native is not None and native(ctx, args):
                self.native_collisions[name] += 1
                return ALLOW
            self.last_transfers = []
            if self.tracing:
                ctx.transfers = self.last_transfers
            call = calltrace.Call(
                name, (_s32(args[0]), _s32(args[1]), calltrace.Sym(f"{args[2]:#x}", args[2]))
            )
            try:
                result = handler(ctx, args)
            except DeviceError as e:
                result = -e.errno
            except Block as b:
                self._emit(t, call, None, device=device, raw=args[:6])
                return self.park(t, b.queue, name, None, None, b.interrupted)
            self._emit(t, call, result, device=device, raw=args[:6])
            return result

        return serve

    # -- watching fds ------------------------------------------------------------

    def watch(self, t: Thread, fd: int) -> Job:
        """Make sure fd-taking calls on `fd` stop in this process (a job step).

        With the notify backend (`on_listener` set), the first watch filter of a
        process's filter chain gets a listener, and read/write/ioctl on its fd
        numbers come as notifications; the kernel allows one listener per chain
        (EBUSY), so numbers watched later in the chain stop with ptrace."""
        p = self.proc(t.tgid)
        if fd in p.watched:
            return 0
        if self.on_listener is not None and not p.has_listener:
            res = yield from self._install_watch(t, fd, listener=True)
            if res >= 0:
                p.has_listener = True
                listener = -1
                try:
                    listener = self.tracer.copy_fd(t, res)
                except OSError as e:  # the filter's calls would fail with ENOSYS
                    log.error("cannot take the seccomp listener of %d: %s", t.tgid, e)
                yield Run(NR["close"], (res,))
                if listener >= 0:
                    self.on_listener(listener)
                p.watched.add(fd)
                return 0
            if res != -errno.EBUSY:
                log.warning("no seccomp listener for %d (%d): ptrace only", t.tgid, res)
            p.has_listener = True  # inherited (EBUSY), or none to be had: do not ask again
        res = yield from self._install_watch(t, fd, listener=False)
        if res != 0:
            log.warning("could not watch fd %d of %d (seccomp: %d)", fd, t.tgid, res)
        else:
            p.watched.add(fd)
        return res

    @staticmethod
    def _install_watch(t: Thread, fd: int, listener: bool) -> Job:
        prog = seccomp.watch_filter([fd], notify=listener)

        def scratch(addr: int) -> bytes:
            return struct.pack("<HxxxxxxQ", seccomp.fprog_count(prog), addr + 16) + prog

        flags = notify.LISTENER_FLAGS if listener else SECCOMP_FILTER_FLAG_TSYNC
        res = yield Run(NR["seccomp"], (SECCOMP_SET_MODE_FILTER, flags, Scratch(0)), scratch)
        return res

    # -- helpers of several families ------------------------------------------------

    def _file(self, t: Thread, fd: int) -> OpenFile | None:
        """The virtual file behind a trapped call's fd (cached; see `fd_cache`)."""
        fd = _s32(fd)
        cached = self.fd_cache.get(t.tid)
        if cached is not None:
            f = cached.get(fd)
            if f is not None and not f.released:
                return f
        f = self.vfs.file_of(t.tid, fd)
        if f is not None and not self.table_changes:
            p = self.procs.get(t.tgid)
            if p is not None and p.cacheable and fd in p.watched:
                if cached is None:
                    cached = self.fd_cache[t.tid] = {}
                cached[fd] = f
        return f

    def _write_out(self, t: Thread, addr: int, data: bytes) -> int:
        try:
            write_memory(t.tid, addr, data)
        except OSError:
            return -errno.EFAULT
        return 0

    # -- release -----------------------------------------------------------------

    def on_release(self, f: OpenFile) -> None:
        self.wake_file_waiters(f)
