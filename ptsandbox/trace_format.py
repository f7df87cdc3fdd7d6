"""`run --trace` output: strace's text or JSON lines, from trace events.

An event travels as a JSON-able "wire" record (`to_wire`): a namespace's
supervisor sends it over the control socket, `run --private` makes it in
process; either way the program's terminal formats it here, with the user's
options (strace's `-t`/`-tt`/`-ttt`, `-T`, `-e trace=...`).

Text, as strace -f prints it:

    [pid 12] ioctl(3</dev/chatroom>, CHATROOM_IOC_SET_NAME, "P1") = 0
    [pid 13] read(3</dev/chatroom>, <unfinished ...>
    [pid 13] <... read resumed> "P2: hi", 64) = 6
    [pid 12] +++ exited with 0 +++

JSON lines: one object per event, {"time", "pid", "tid", "syscall", "args",
"result", "errno", "duration", "kind"}; `result` is what the program saw (-1
on an error, whose name is `errno`), `args` the decoded arguments (a string
argument as text, a descriptor as {"fd", "path"}, flags and commands as
{"value", "name"}), `duration` seconds from the call's entry (a resumed call:
from its first entry), `kind` one of call, unfinished, resumed, exit.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
from dataclasses import dataclass
from typing import Any, TextIO

from . import calltrace
from .syscalls.core import TraceEvent


class TraceOptionError(ValueError):
    """A trace option the user got wrong (one line)."""


@dataclass(frozen=True)
class TraceOptions:
    fmt: str = "text"  # "text" or "jsonl"
    timestamps: int = 0  # strace -t (1), -tt (2), -ttt (3)
    durations: bool = False  # strace -T
    only: frozenset[str] | None = None  # strace -e trace=NAME,...

    def wants(self, rec: dict[str, Any]) -> bool:
        return self.only is None or rec["kind"] == "exit" or rec["syscall"] in self.only


def parse_filter(expr: str) -> frozenset[str]:
    """`trace=ioctl,read` (or just `ioctl,read`) -> the syscall names to show."""
    qualifier, sep, names = expr.partition("=")
    if not sep:
        qualifier, names = "trace", expr
    if qualifier != "trace":
        raise TraceOptionError(f"-e {expr}: only trace=NAME[,NAME...] is supported")
    chosen = frozenset(n.strip() for n in names.split(",") if n.strip())
    if not chosen:
        raise TraceOptionError(f"-e {expr}: no syscall named")
    return chosen


def to_wire(event: TraceEvent, data: bool = False) -> dict[str, Any]:
    """The event as a JSON-able record; `data`: with the bytes the device moved
    and the raw arguments (for `ptsandbox record`)."""
    rec: dict[str, Any] = {
        "kind": event.kind,
        "time": event.wall,
        "pid": event.pid,
        "tid": event.tid,
        "syscall": event.syscall,
        "args": [calltrace.arg_wire(a) for a in event.values],
        "first_output": event.first_output,
        "result": event.result,
        "duration": event.duration,
    }
    if event.kind == "exit":
        rec["status"] = event.status
    if data:
        rec["device"] = event.device
        rec["comm"] = event.comm
        rec["raw"] = list(event.raw)
        rec["transfers"] = [[d, addr, b.decode("latin-1")] for d, addr, b in event.transfers]
    return rec


def exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        core = " (core dumped)" if os.WCOREDUMP(status) else ""
        return f"+++ killed by {signal.Signals(os.WTERMSIG(status)).name}{core} +++"
    return f"+++ exited with {os.WEXITSTATUS(status)} +++"


def _stamp(when: float, level: int) -> str:
    if level >= 3:
        return f"{when:.6f}"
    moment = datetime.datetime.fromtimestamp(when)
    return moment.strftime("%H:%M:%S.%f" if level == 2 else "%H:%M:%S")


def format_text(rec: dict[str, Any], opts: TraceOptions) -> str:
    who = rec["tid"] if rec["tid"] != rec["pid"] else rec["pid"]
    prefix = f"[pid {who}] "
    if opts.timestamps:
        prefix += _stamp(rec["time"], opts.timestamps) + " "
    if rec["kind"] == "exit":
        return prefix + exit_text(rec["status"])
    name = rec["syscall"]
    args = [calltrace.wire_text(a) for a in rec["args"]]
    first_output = rec.get("first_output")
    split = len(args) if first_output is None else first_output
    if rec["kind"] == "unfinished":
        before = args[:split]
        return prefix + f"{name}({', '.join(before)}{', ' if before else ''}<unfinished ...>"
    if rec["kind"] == "resumed":
        after = args[split:]
        call = f"<... {name} resumed>{' ' if after else ''}{', '.join(after)})"
    else:
        call = f"{name}({', '.join(args)})"
    value = rec["result"]
    text = f"{prefix}{call} {'= ?' if value is None else calltrace.result(value)}"
    if opts.durations and rec.get("duration") is not None:
        text += f" <{rec['duration']:.6f}>"
    return text


def format_json(rec: dict[str, Any]) -> str:
    out: dict[str, Any] = {
        "time": rec["time"],
        "pid": rec["pid"],
        "tid": rec["tid"],
        "kind": rec["kind"],
    }
    if rec["kind"] == "exit":
        status = rec["status"]
        if os.WIFSIGNALED(status):
            out["signal"] = signal.Signals(os.WTERMSIG(status)).name
        else:
            out["exit_code"] = os.WEXITSTATUS(status)
        return json.dumps(out)
    value = rec["result"]
    name = calltrace.errno_name(value)
    args = rec["args"]
    if rec["kind"] == "unfinished" and rec.get("first_output") is not None:
        args = args[: rec["first_output"]]  # the outputs are not there yet
    out.update(
        syscall=rec["syscall"],
        args=[calltrace.wire_json(a) for a in args],
        result=-1 if name is not None else value,
        errno=name,
        duration=rec.get("duration"),
        blocked=rec["kind"] == "unfinished",
    )
    return json.dumps(out)


class TraceWriter:
    """Writes wire records to a stream in the chosen format, filtered."""

    def __init__(self, out: TextIO, opts: TraceOptions) -> None:
        self.out = out
        self.opts = opts

    def write(self, rec: dict[str, Any]) -> None:
        if not self.opts.wants(rec):
            return
        text = format_json(rec) if self.opts.fmt == "jsonl" else format_text(rec, self.opts)
        self.out.write(text + "\n")
        self.out.flush()
