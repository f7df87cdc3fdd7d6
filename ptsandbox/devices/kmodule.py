"""A student's own kernel module as a device: each operation is forwarded to
the module's host process (ptsandbox.kmod), which runs the module's
file_operations against the user-space kernel API.

A call that sleeps in the module (wait_event, a contended mutex) stays in
flight in the host, on its own thread; the caller is parked (`Block`) and,
when the host reports the call finished, its re-run picks up the result by
thread id. A signal to the parked caller makes the module's
wait_event_interruptible return -ERESTARTSYS; the module's return value is
then the call's. Reports the host makes (KASAN, Oops, lockdep, kmemleak ...)
go to dmesg and to `report` (the run's stderr).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from ..kmod import host as kh
from ..kmod.build import Built
from .base import (
    Block,
    Context,
    Device,
    DeviceError,
    DeviceFile,
    NodeSpec,
    ParamError,
    PollTable,
    WaitQueue,
)

SYNC_WAIT = 0.05  # seconds a call may run before its caller is parked instead
CALL_WAIT = 10.0  # poll and release cannot park: how long the supervisor waits for them
NONBLOCK_WAIT = 10.0  # a call on an O_NONBLOCK file: waited for unless it sleeps
SIGNAL_WAIT = 2.0  # how long a signalled call gets to return -ERESTARTSYS
LOAD_WAIT = 30.0
RESTARTS = {-512, -513, -514, -516}  # ERESTARTSYS and friends never reach user space
LEVELS = "0123456"

# ptsandbox's own settings, given like kernel boot parameters next to module params
OPTIONS = {
    "init_on_alloc": "kmalloc returns zeroed memory (default 0: poisoned, as slub_debug)",
    "hung_task_timeout_secs": "report an uninterruptible sleep longer than this (default 120)",
}


def _stderr_report(tgid: int, text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class KernelModule(Device):
    """A loaded module; `module_class()` makes one subclass per compiled module."""

    name: ClassVar[str] = "kmodule"
    description: ClassVar[str] = "a kernel module, compiled unmodified and hosted"
    default_path: ClassVar[str | None] = None
    built: ClassVar[Built | None] = None
    source: ClassVar[str] = ""

    #: where reports go besides dmesg, with the pid of the process whose call
    #: triggered them (0: none): this process's stderr (a --private run's)
    #: unless set; a namespace's daemon sends them to that program's run
    report_sink: ClassVar[Callable[[int, str], None] | None] = None

    @classmethod
    def load_params(cls, raw: dict[str, Any]) -> dict[str, Any]:
        return {str(k): str(v) for k, v in raw.items()}  # the module's own parser checks them

    def __post_init__(self) -> None:
        super().__post_init__()
        assert self.built is not None
        options = {k: self.config.pop(k) for k in list(self.config) if k in OPTIONS}
        self._early: list[str] | None = []
        self._majors: list[int] = []
        self._nodes: dict[str, tuple[int, int, int]] = {}
        self._files: dict[int, KmodFile] = {}
        self.inflight: dict[int, kh.Call] = {}
        self._refcnt = 0
        self.tainted = ""
        self.taint = ""
        self.reports: list[str] = []
        self.symbolizer = kh.Symbolizer(self.built.binary, self.name, self.built.sources)
        self.host = kh.ModuleHost(
            self.built.binary,
            self._on_message,
            zero_alloc=options.get("init_on_alloc", "0") not in ("0", ""),
            hung_timeout_ms=int(float(options.get("hung_task_timeout_secs", "120")) * 1000),
        )
        try:
            self.host.start()
        except kh.HostDied as e:
            raise ParamError(f"could not insert module {self.name}: {e}") from None
        payload = b"".join(
            f"{k}={v}".encode() + b"\0" for k, v in [("__name", self.name), *self.config.items()]
        )
        call = self.host.request(kh.OP_LOAD, tid=os.getpid(), tgid=os.getpid(), comm="insmod",
                                 payload=payload)  # fmt: skip
        done = self.host.wait(call, LOAD_WAIT, until_sleep=False)
        self._drain_stderr()
        if not done or call.result != 0:
            code = -call.result if done and -4096 < call.result < 0 else errno.EIO
            why = os.strerror(code) if done else "init did not return"
            self._shutdown()
            self._flush_early()
            raise ParamError(f"could not insert module {self.name}: {why}")

    # -- messages from the host ------------------------------------------------

    def _printk(self, line: str) -> None:
        if self._early is not None:
            self._early.append(line)
        else:
            self.log(line)

    def _flush_early(self) -> None:
        if self._early is not None:
            lines, self._early = self._early, None
            for line in lines:
                self.log(line)

    def _on_message(self, m: kh.Message) -> None:
        text = m.payload.decode(errors="replace")
        if m.kind == kh.MSG_DONE:
            self._refcnt = m.a
        elif m.kind == kh.MSG_PRINTK:
            self._printk(text)
        elif m.kind == kh.MSG_REPORT:
            self._report(self.symbolizer.render(text), m.call if m.a else 0, m.call)
        elif m.kind == kh.MSG_WAKE:
            f = self._files.get(m.file)
            if f is not None:
                f.pollq.wake()
        elif m.kind == kh.MSG_CHRDEV:
            if m.b and m.a not in self._majors:
                self._majors.append(m.a)
            elif not m.b and m.a in self._majors:
                self._majors.remove(m.a)
        elif m.kind == kh.MSG_NODE:
            if m.result:
                self._nodes[text] = (m.a, m.b, m.result & 0o7777)
            else:
                self._nodes.pop(text, None)

    def _report(self, text: str, oops_call: int, call_id: int = 0) -> None:
        self.reports.append(text)
        # the kernel's taint flags: D after an oops, B after KASAN, W after a warning
        for flag, seen in (
            ("D", bool(oops_call)),
            ("B", "KASAN" in text),
            ("W", "WARNING" in text or "sleeping function" in text),
        ):
            if seen and flag not in self.taint:
                self.taint += flag
        for line in text.strip("\n").split("\n"):
            self._printk(line)
        sink = type(self).report_sink or _stderr_report
        call = self.host.calls.get(call_id)
        sink(call.tgid if call is not None else 0, text.strip("\n"))
        if oops_call:
            # the kernel ends a task that oopses (do_exit with SIGKILL after a fault)
            call = self.host.calls.get(oops_call)
            if call is not None and call.tgid and call.tgid != os.getpid():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(call.tgid, signal.SIGKILL)

    def _drain_stderr(self) -> None:
        for line in self.host.read_stderr():
            if "runtime error:" in line:
                # UBSan: "file.c:12:5: runtime error: X" -> the kernel's "UBSAN: X in file.c:12:5"
                where, _, what = line.partition(": runtime error: ")
                self._report(f"UBSAN: {what} in {os.path.basename(where)}", 0)

    def _on_readable(self) -> None:
        self.host.pump()
        if self.host.dead:
            self._host_died()

    def _on_stderr(self) -> None:
        self._drain_stderr()

    def _host_died(self) -> None:
        if self.tainted == "dead":
            return
        self.tainted = "dead"
        self._drain_stderr()
        tail = [ln for ln in self.host.stderr_tail if ln.strip()][-20:]
        self._report(
            "\n".join(
                [
                    f"ptsandbox: the host process of module {self.name} ended "
                    "(a sanitizer abort or a crash outside module code); "
                    "every further call to the module fails with EIO",
                    *tail,
                ]
            ),
            0,
        )

    # -- the Device interface ----------------------------------------------------

    def event_fds(self) -> dict[int, Callable[[], None]]:
        if self.host.proc is None or self.host.dead:
            return {}
        return {self.host.fileno(): self._on_readable, self.host.stderr_fileno(): self._on_stderr}

    def node_paths(self) -> list[str]:
        """The nodes the module made at init (misc_register, device_create)."""
        return list(self._nodes)

    def nodes(self) -> Iterator[NodeSpec]:
        self._flush_early()  # the supervisor has given us its log by now
        for path, (_major, minor, mode) in self._nodes.items():
            yield NodeSpec(path, minor, mode)

    @property
    def major_number(self) -> int:
        if self._majors:
            return self._majors[0]
        if self._nodes:
            return next(iter(self._nodes.values()))[0]
        return 0

    def _major_of(self, minor: int) -> int:
        for major, m, _mode in self._nodes.values():
            if m == minor:
                return major
        return self.major_number

    def open(self, ctx: Context, minor: int, inode: int) -> KmodFile:
        call = self.inflight.get(ctx.tid)
        if call is not None:
            mine = call.owner is self  # (not in the condition: mypy would narrow self to Any)
            if call.op == kh.OP_OPEN and mine:
                if not call.done:
                    raise Block(call.queue, functools.partial(self._interrupt_open, call))
                del self.inflight[ctx.tid]
                return self._opened(ctx, call)
            call.orphaned = True  # a call of this thread that ended for its caller (EINTR)
            del self.inflight[ctx.tid]
        call = self.host.request(
            kh.OP_OPEN, tid=ctx.tid, tgid=ctx.tgid, comm=ctx.comm, flags=ctx.flags,
            a0=self._major_of(minor), a1=minor, a2=inode,
        )  # fmt: skip
        if self.host.wait(call, SYNC_WAIT):
            return self._opened(ctx, call)
        # asleep in the module's open (a FIFO-like gate, a contended mutex): the
        # caller parks like a sleeping read, and its re-run takes the file
        queue = WaitQueue(f"{self.name} open {call.id}")
        call.owner, call.queue = self, queue

        def done(finished: kh.Call) -> None:
            if finished.orphaned:
                self._undo_open(finished)  # nobody will take it: release it
            queue.wake()

        call.on_done = done
        self.inflight[ctx.tid] = call
        raise Block(queue, functools.partial(self._interrupt_open, call))

    def _opened(self, ctx: Context, call: kh.Call) -> KmodFile:
        if call.oopsed:
            raise DeviceError(errno.EFAULT)
        if call.result < 0:
            raise DeviceError(-call.result if call.result not in RESTARTS else errno.EINTR)
        f = KmodFile(self, call.file, (ctx.tid, ctx.tgid, ctx.comm))
        self._files[call.file] = f
        return f

    def _undo_open(self, call: kh.Call) -> None:
        """An open that succeeded in the module after its caller stopped waiting for it
        (a signal, or the caller died): release the file it made."""
        if call.done and not call.oopsed and call.result >= 0:
            f = KmodFile(self, call.file, (call.tid, call.tgid, ""))
            self._files[call.file] = f
            f.release()

    def _interrupt_open(self, call: kh.Call) -> int | None:
        """A signal reached a caller asleep in open: an error is the call's result;
        -ERESTARTSYS is EINTR or a restart, as the kernel decides. An open that
        completed as the signal came is undone: the caller restarts or sees EINTR."""
        self.host.signal(call, fatal=False)
        if not self.host.wait(call, SIGNAL_WAIT, until_sleep=False):
            call.orphaned = True  # still asleep (uninterruptibly): released when it ends
            self.inflight.pop(call.tid, None)
            return None
        self.inflight.pop(call.tid, None)
        if call.oopsed or call.result in RESTARTS:
            return None
        if call.result < 0:
            return call.result
        self._undo_open(call)
        return None

    def task_exit(self, tid: int, tgid: int) -> None:
        call = self.inflight.pop(tid, None)
        if call is not None and not call.done:
            self.host.signal(call, fatal=True)  # the task is dying: its sleep ends
            call.orphaned = True

    def interrupt(self, call: kh.Call) -> int | None:
        """The parked caller got a signal: the module sees it pending."""
        self.host.signal(call, fatal=False)
        if not self.host.wait(call, SIGNAL_WAIT, until_sleep=False):
            return None  # still asleep (uninterruptibly): the caller restarts or sees EINTR
        self.inflight.pop(call.tid, None)
        if call.oopsed or call.result in RESTARTS:
            return None
        return call.result

    def in_use(self) -> bool:
        return bool(self._files) or self._refcount > 0

    @property
    def _refcount(self) -> int:
        return self._refcnt

    @property
    def refcount(self) -> int:
        """The module's use count (try_module_get/module_put), as lsmod shows it."""
        return self._refcnt

    def holds_state(self) -> bool:
        return True

    def exit(self) -> None:
        if self.host.dead:
            self._shutdown()
            return
        # releases are asynchronous: let them finish before the module's exit runs
        for call in list(self.host.calls.values()):
            if call.op == kh.OP_RELEASE:
                self.host.wait(call, 5.0, until_sleep=False)
        call = self.host.request(kh.OP_UNLOAD, tid=os.getpid(), tgid=os.getpid(), comm="rmmod")
        done = self.host.wait(call, LOAD_WAIT, until_sleep=False)
        if done and call.result == -errno.EBUSY:
            raise DeviceError(errno.EBUSY)
        self._drain_stderr()
        self._shutdown()

    def _shutdown(self) -> None:
        self.host.close()

    def snapshot(self) -> dict[str, Any]:
        return {
            "module": self.name,
            "source": self.source,
            "majors": list(self._majors),
            "nodes": sorted(self._nodes),
            "open_files": len(self._files),
            "calls_in_flight": len(self.inflight),
            "reports": len(self.reports),
            "tainted": self.taint,
            "host": "gone" if self.host.dead else "running",
        }


class KmodFile(DeviceFile):
    """One open file of the module: its struct file lives in the host."""

    stream: ClassVar[bool] = False

    def __init__(self, dev: KernelModule, fid: int, opener: tuple[int, int, str]) -> None:
        self.dev = dev
        self.fid = fid
        self.opener = opener  # release runs as the task that opened (the closer is unknown)
        self.pollq = WaitQueue(f"{dev.name} poll")
        self._release_pending = False  # closed for good, released when its calls end

    def _mem(self, tid: int) -> int | None:
        try:
            return os.open(f"/proc/{tid}/mem", os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return None

    def _call(self, ctx: Context, op: int, a0: int = 0, a1: int = 0) -> int:
        dev = self.dev
        call = dev.inflight.get(ctx.tid)
        if call is not None:
            if call.owner is self and call.op == op:
                if call.done:
                    del dev.inflight[ctx.tid]
                    return int(self._finish(ctx, call))
                raise Block(call.queue, functools.partial(dev.interrupt, call))
            # a call of this thread that ended for its caller without us (EINTR): drop it
            call.orphaned = True
            del dev.inflight[ctx.tid]
        memfd = self._mem(ctx.tid)
        try:
            call = dev.host.request(
                op, tid=ctx.tid, tgid=ctx.tgid, comm=ctx.comm, file=self.fid, flags=ctx.flags,
                pos=ctx.pos, a0=a0, a1=a1, memfd=memfd,
            )  # fmt: skip
        finally:
            if memfd is not None:
                os.close(memfd)
        # On an O_NONBLOCK file the supervisor answers a parked call with EAGAIN, so a
        # call that is only slow (not asleep in the module) must be waited for.
        nonblocking = bool(ctx.flags & os.O_NONBLOCK)
        if dev.host.wait(call, NONBLOCK_WAIT if nonblocking else SYNC_WAIT):
            return self._finish(ctx, call)
        queue = WaitQueue(f"{dev.name} call {call.id}")
        call.owner, call.queue = self, queue

        def done(_call: kh.Call) -> None:
            queue.wake()
            self._release_if_idle()

        call.on_done = done
        dev.inflight[ctx.tid] = call
        raise Block(queue, functools.partial(dev.interrupt, call))

    def _finish(self, ctx: Context, call: kh.Call) -> int:
        if call.oopsed:
            raise DeviceError(errno.EFAULT)  # the caller is being killed
        if call.op in (kh.OP_READ, kh.OP_WRITE, kh.OP_LLSEEK):
            ctx.pos = call.pos
        if call.result in RESTARTS:
            raise DeviceError(errno.EINTR)
        return int(call.result)

    def read(self, ctx: Context, buf: int, count: int) -> int:
        return self._call(ctx, kh.OP_READ, buf, count)

    def write(self, ctx: Context, buf: int, count: int) -> int:
        return self._call(ctx, kh.OP_WRITE, buf, count)

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        return self._call(ctx, kh.OP_IOCTL, cmd, arg)

    def llseek(self, ctx: Context, offset: int, whence: int) -> int:
        return self._call(ctx, kh.OP_LLSEEK, offset, whence)

    def poll(self, pt: PollTable) -> int:
        pt.wait(self.pollq)
        call = self.dev.host.request(kh.OP_POLL, file=self.fid)
        if not self.dev.host.wait(call, CALL_WAIT, until_sleep=False):
            return 0
        return call.result if call.result >= 0 else 0

    def release(self) -> None:
        # The kernel holds a file reference for each call in flight (fdget): the last
        # close of a file another thread still sleeps on releases it when that call ends.
        self._release_pending = True
        self._release_if_idle()

    def _release_if_idle(self) -> None:
        if not self._release_pending:
            return
        if any(c.owner is self and not c.done for c in self.dev.host.calls.values()):
            return
        self._release_pending = False
        self.dev._files.pop(self.fid, None)
        tid, tgid, comm = self.opener
        call = self.dev.host.request(kh.OP_RELEASE, tid=tid, tgid=tgid, comm=comm, file=self.fid)
        # the kernel's release runs inside the last close(): what it does (a "left"
        # notice, freed state) is there for the caller's next call
        self.dev.host.wait(call, CALL_WAIT, until_sleep=False)

    def describe(self) -> dict[str, Any]:
        return {"module": self.dev.name}


_classes: dict[Path, type[KernelModule]] = {}


def module_class(path: str | os.PathLike[str], sanitize: bool = True) -> type[KernelModule]:
    """Compile (cached) the module at `path` and return its device class (one class
    per build, so the same module asked for twice is the same device type)."""
    from ..kmod.build import build

    return hosted_class(build(path, sanitize=sanitize), str(Path(path).resolve()))


def hosted_class(built: Built, source: str) -> type[KernelModule]:
    """The device class of a module compiled already (`grade` builds it in its
    build sandbox and runs it in each scenario's)."""
    cls = _classes.get(built.binary)
    if cls is None:
        cls = type(
            f"KernelModule_{built.name}",
            (KernelModule,),
            {"name": built.name, "built": built, "source": source},
        )
        _classes[built.binary] = cls
    return cls
