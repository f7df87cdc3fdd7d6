"""`ptsandbox replay`: serve a recorded session's device side to a program (umockdev-run).

For each device of the recording a stand-in device is loaded, with the same
name, major, nodes and syscalls; it does not model anything, it answers
from the recording:

* The recording is split into *lanes*, one per thread: a replayed process is
  matched to the first recorded process with the same command name (comm)
  not yet matched, in the order they first called a device (else to the
  first one left); its threads to the recorded process's threads in the order
  of their first device call (the main thread first).
* Each device operation (open, read, write, ioctl, lseek, a driver's
  syscall) takes the next record of its lane. Same operation: the recorded
  bytes are copied out to the program, the recorded result returned; where
  the recording slept (an unfinished call later resumed), the replay sleeps
  as long, really (the thread waits in the kernel, signals reach it); a call
  the recording left asleep at the end sleeps until the program ends.
* A divergence is reported with both sides, as it happens, and at the end:
  another operation than recorded (answered EIO, the record kept for the
  next call), other arguments (count, command, a by-value argument, open
  flags) or other data from the program (a write's bytes, an ioctl's string):
  answered from the record. At the end, records no call took (but a lane's
  last, unfinished call: the recording ended while it slept) are divergences
  too. `replay` exits 1 after any divergence, else with the program's status.

close, stat and other calls the sandbox serves by itself are not compared.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import calltrace
from .devices.base import Block, Context, Device, DeviceError, DeviceFile, NodeSpec, WaitQueue

OPENS = ("open", "openat", "openat2", "creat")


@dataclass
class Lane:
    """The recorded device operations of one thread, in order."""

    pid: int
    tid: int
    comm: str
    records: list[dict[str, Any]]
    next: int = 0

    def peek(self) -> dict[str, Any] | None:
        return self.records[self.next] if self.next < len(self.records) else None


@dataclass
class Sleep:
    """A replayed call sleeping as the recording did."""

    queue: WaitQueue
    done: bool = False


@dataclass
class Replayer:
    """The recording, the matching of replayed threads to lanes, the divergences."""

    records: list[dict[str, Any]]
    report: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr))
    speed: float = 1.0  # recorded sleeps are divided by this

    def __post_init__(self) -> None:
        by_thread: dict[tuple[int, int], Lane] = {}
        for r in self.records:
            if r.get("device") is None or r["kind"] not in ("call", "resumed", "unfinished"):
                continue
            key = (r["pid"], r["tid"])
            lane = by_thread.get(key)
            if lane is None:
                lane = by_thread[key] = Lane(r["pid"], r["tid"], r.get("comm", ""), [])
            if r["kind"] == "resumed" and lane.records and lane.records[-1]["kind"] == "unfinished":
                lane.records[-1] = r  # the completed call replaces its first, sleeping, half
            else:
                lane.records.append(r)
        self.lanes = list(by_thread.values())
        self.processes: list[int] = list(dict.fromkeys(lane.pid for lane in self.lanes))
        self.process_of: dict[int, int] = {}  # replayed tgid -> recorded pid
        self.lane_of: dict[int, Lane | None] = {}  # replayed tid -> its lane
        self.divergences: list[str] = []
        self.sleeps: dict[int, Sleep] = {}  # seq of a record being slept -> its sleep
        self.wake_fd: int | None = None
        self._due: list[Sleep] = []
        self._lock = threading.Lock()

    # -- matching ------------------------------------------------------------------

    def lane(self, ctx: Context) -> Lane | None:
        if ctx.tid in self.lane_of:
            return self.lane_of[ctx.tid]
        pid = self.process_of.get(ctx.tgid)
        if pid is None:
            taken = set(self.process_of.values())
            free = [p for p in self.processes if p not in taken]
            comm = ctx.comm
            same = [p for p in free if self._comm(p) == comm]
            pid = (same or free or [-1])[0]
            self.process_of[ctx.tgid] = pid
        taken_lanes = {id(x) for x in self.lane_of.values() if x is not None}
        mine = [x for x in self.lanes if x.pid == pid and id(x) not in taken_lanes]
        main = [x for x in mine if x.tid == x.pid]
        candidates: list[Lane | None] = [*(main if ctx.tid == ctx.tgid and main else mine), None]
        chosen = candidates[0]
        self.lane_of[ctx.tid] = chosen
        return chosen

    def _comm(self, pid: int) -> str:
        return next((x.comm for x in self.lanes if x.pid == pid), "")

    def diverge(self, ctx: Context, recorded: str, replayed: str) -> None:
        text = (
            f"divergence in pid {ctx.tgid} tid {ctx.tid}: recorded {recorded}; replayed {replayed}"
        )
        if text in self.divergences:
            return  # the same call run again after a sleep
        self.divergences.append(text)
        self.report(f"ptsandbox: replay: {text}")

    def take(self, ctx: Context, ops: tuple[str, ...], replayed: str) -> dict[str, Any]:
        """The lane's next record for one of `ops`, or DeviceError(EIO) after
        reporting the divergence (the record stays for the next call)."""
        lane = self.lane(ctx)
        record = lane.peek() if lane is not None else None
        if record is None:
            self.diverge(ctx, "nothing more for this thread", replayed)
            raise DeviceError(errno.EIO)
        if record["syscall"] not in ops:
            self.diverge(ctx, record["text"], replayed)
            raise DeviceError(errno.EIO)
        return record

    def answer(self, ctx: Context, record: dict[str, Any], raw: tuple[int, ...]) -> int:
        """Sleep as recorded, then copy the recorded output and return the result."""
        lane = self.lane(ctx)
        assert lane is not None
        if record["kind"] == "unfinished":  # the recording ended with this call asleep
            raise Block(WaitQueue("forever"))
        slept = record.get("duration") or 0.0
        if self._slept_in_recording(record) and slept > 0:
            sleep = self.sleeps.get(record["seq"])
            if sleep is None:
                sleep = self.sleeps[record["seq"]] = Sleep(WaitQueue("replay"))
                self._arm(sleep, slept / self.speed)
            if not sleep.done:
                raise Block(sleep.queue)
            del self.sleeps[record["seq"]]
        lane.next += 1
        for index, offset, data in record.get("out", []):
            ctx.copy_to_user(raw[index] + offset, data.encode("latin-1"))
        result: int = record["result"]
        if -4096 < result < 0:
            raise DeviceError(-result)
        return result

    def _slept_in_recording(self, record: dict[str, Any]) -> bool:
        return bool(record["kind"] == "resumed")

    def check_in(self, ctx: Context, record: dict[str, Any], raw: tuple[int, ...]) -> str | None:
        """The program's bytes where the recorded device read some: None if the same."""
        for index, offset, data in record.get("in", []):
            want = data.encode("latin-1")
            if index < 0 or index >= len(raw):
                continue
            try:
                got = ctx.copy_from_user(raw[index] + offset, len(want))
            except DeviceError:
                return f"unreadable memory where the recording had {calltrace.quote(want)}"
            if got != want:
                return calltrace.quote(got.rstrip(b"\0"))
        return None

    # -- sleeping --------------------------------------------------------------------

    def _arm(self, sleep: Sleep, seconds: float) -> None:
        def due() -> None:
            with self._lock:
                self._due.append(sleep)
            if self.wake_fd is not None:
                os.write(self.wake_fd, b"\0")

        timer = threading.Timer(seconds, due)
        timer.daemon = True
        timer.start()

    def on_wake(self, fd: int) -> None:
        """In the supervisor's loop: wake the sleeps whose time has come."""
        os.read(fd, 4096)
        with self._lock:
            due, self._due = self._due, []
        for sleep in due:
            sleep.done = True
            sleep.queue.wake()

    # -- the end ---------------------------------------------------------------------

    def finish(self) -> list[str]:
        """Report the records no call took; return every divergence."""
        for lane in self.lanes:
            left = lane.records[lane.next :]
            if left and left[-1]["kind"] == "unfinished":
                left = left[:-1]  # asleep when the recording ended: taking it or not is alike
            for r in left:
                text = (
                    f"divergence: recorded pid {lane.pid} tid {lane.tid}: {r['text']}; "
                    "replayed: no such call"
                )
                self.divergences.append(text)
                self.report(f"ptsandbox: replay: {text}")
        return self.divergences


class ReplayFile(DeviceFile):
    stream: ClassVar[bool] = False  # the recorded results say what lseek gave

    def __init__(self, replayer: Replayer, path: str) -> None:
        self.r = replayer
        self.path = path

    def _call(self, name: str, *args: str) -> str:
        return f"{name}({', '.join([f'<{self.path}>', *args])})"

    def read(self, ctx: Context, buf: int, count: int) -> int:
        return self._rw(ctx, "read", buf, count)

    def write(self, ctx: Context, buf: int, count: int) -> int:
        return self._rw(ctx, "write", buf, count)

    def _rw(self, ctx: Context, op: str, buf: int, count: int) -> int:
        raw = (-1, buf, count)
        replayed = self._call(op, "...", str(count))
        ops = (op, "pread64", "readv") if op == "read" else (op, "pwrite64", "writev")
        record = self.r.take(ctx, ops, replayed)
        if record.get("path") != self.path or record["raw"][2:3] != [count]:
            self.r.diverge(ctx, record["text"], replayed)
        elif op == "write":
            other = self.r.check_in(ctx, record, raw)
            if other is not None:
                self.r.diverge(ctx, record["text"], self._call(op, other, str(count)))
        return self.r.answer(ctx, record, raw)

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        raw = (-1, cmd, arg)
        shown = calltrace.ioctl_cmd(cmd, None).text
        record = self.r.take(ctx, ("ioctl",), self._call("ioctl", shown, f"{arg:#x}"))
        recorded_cmd, recorded_arg = (record["raw"] + [0, 0, 0])[1:3]
        if recorded_cmd == cmd and len(record["args"]) > 1:  # the device's name for it
            shown = calltrace.wire_text(record["args"][1])
        by_value = len(record["args"]) > 2 and isinstance(record["args"][2], int)
        if recorded_cmd != cmd or (by_value and recorded_arg != arg):
            self.r.diverge(ctx, record["text"], self._call("ioctl", shown, str(arg)))
        else:
            other = self.r.check_in(ctx, record, raw)
            if other is not None:
                self.r.diverge(ctx, record["text"], self._call("ioctl", shown, other))
        return self.r.answer(ctx, record, raw)

    def llseek(self, ctx: Context, offset: int, whence: int) -> int:
        replayed = self._call("lseek", str(offset), str(whence))
        record = self.r.take(ctx, ("lseek",), replayed)
        if (record["raw"] + [0, 0, 0])[1:3] != [offset, whence]:
            self.r.diverge(ctx, record["text"], replayed)
        result = self.r.answer(ctx, record, (-1, offset, whence))
        ctx.pos = max(result, 0)
        return result


class ReplayDevice(Device):
    """Stands in for one recorded device (a subclass per device, see `stand_ins`)."""

    name: ClassVar[str] = "replay"
    default_path: ClassVar[str | None] = None
    recorded: ClassVar[dict[str, Any]] = {}
    replayer: ClassVar[Replayer | None] = None

    def nodes(self) -> Iterator[NodeSpec]:
        for path in self.recorded.get("nodes", []):
            yield NodeSpec(path, 0)

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        r = self.replayer
        assert r is not None
        record = r.take(ctx, OPENS, f"open(<a node of {self.name}>)")
        recorded_flags = (record["raw"] or [0])[0]
        if (recorded_flags ^ ctx.flags) & (os.O_ACCMODE | os.O_NONBLOCK):
            r.diverge(ctx, record["text"], f"open with flags {calltrace.open_flags(ctx.flags)}")
        result = r.answer(ctx, record, ())
        assert result >= 0
        return ReplayFile(r, str(record.get("path")))

    def syscalls(self) -> dict[int, Callable[[Context, tuple[int, ...]], int]]:
        return {int(nr): self._syscall(name) for nr, name in self.recorded["syscalls"].items()}

    def _syscall(self, name: str) -> Callable[[Context, tuple[int, ...]], int]:
        def handler(ctx: Context, args: tuple[int, ...]) -> int:
            r = self.replayer
            assert r is not None
            replayed = f"{name}(..., {args[1]}, ...)"
            record = r.take(ctx, (name,), replayed)
            if (record["raw"] + [0, 0])[1] != args[1]:  # the pids differ between runs
                r.diverge(ctx, record["text"], replayed)
            else:
                other = r.check_in(ctx, record, args)
                if other is not None:
                    r.diverge(ctx, record["text"], f"{name}(..., {args[1]}, {other})")
            return r.answer(ctx, record, args)

        handler.__name__ = name
        return handler


def attach(replayer: Replayer, sup: Any) -> None:
    """Let the recorded sleeps end in the supervisor's loop (a pipe its timers write)."""
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    replayer.wake_fd = w
    sup.add_reader(r, replayer.on_wake)


def stand_ins(header: dict[str, Any], replayer: Replayer) -> list[Device]:
    """One stand-in device per recorded device, with its name, major and nodes."""
    devices: list[Device] = []
    for name, info in header.get("devices", {}).items():
        cls = type(
            f"Replay_{name}",
            (ReplayDevice,),
            {"name": name, "major": int(info.get("major", 0)), "recorded": info,
             "replayer": replayer},
        )  # fmt: skip
        devices.append(cls())
    return devices
