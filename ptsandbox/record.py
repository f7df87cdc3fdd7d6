"""`ptsandbox record`: a session's calls to the sandbox, as JSON lines (umockdev-record).

The first line describes the session and the devices as they were at the
start; every later line is one call that touched the sandbox, in the order
the supervisor served them:

    {"ptsandbox_record": 1, "argv": [...], "started": 1700000000.0,
     "devices": {"chatroom": {"major": 240, "nodes": ["/dev/chatroom"], "syscalls": {},
                              "params": {...}}}}
    {"seq": 3, "t": 0.012, "pid": 100, "tid": 101, "comm": "joinchat", "kind": "resumed",
     "syscall": "read", "device": "chatroom", "path": "/dev/chatroom",
     "text": "read(3</dev/chatroom>, \"P2: hi\", 1119) = 6", "args": [...], "raw": [3, 0, 1119],
     "in": [], "out": [[1, 0, "P2: hi"]], "result": 6, "duration": 0.5}

`kind` is call, unfinished (the caller went to sleep; a later "resumed" line
of the same thread completes it, `duration` counting from the first entry),
or exit. `in` are the bytes the device took from the program and `out` those
it gave it, each `[argument index, offset, bytes]`: where, relative to which
raw argument (the buffer of read/write, ioctl's arg), so that a replay can
find the same place in another process's memory. Bytes are stored as text
with one character per byte (latin-1): readable for text, exact for binary.
Lines with a `device` are the device's operations (open, read, write, ioctl,
lseek, a driver's syscalls): what `ptsandbox replay` answers and compares.
"""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

from . import trace_format
from .devices.base import Device

FORMAT = 1


def device_info(devices: dict[str, Device], nodes: dict[str, list[str]]) -> dict[str, Any]:
    """What a replay needs to stand in for each device: major, nodes, syscalls."""
    info: dict[str, Any] = {}
    for name, d in devices.items():
        info[name] = {
            "major": d.major_number,
            "nodes": sorted(nodes.get(name, [])),
            "syscalls": {
                str(nr): getattr(h, "__name__", f"syscall_{nr}") for nr, h in d.syscalls().items()
            },
            "params": {
                k: v if isinstance(v, (int, str, bool, float)) else str(v)
                for k, v in d.config.items()
            },
        }
    return info


def _relative(raw: list[int], addr: int) -> tuple[int, int]:
    """(argument index, offset): the raw argument the address lies just above."""
    best = (-1, addr)
    for i, value in enumerate(raw):
        if 0 <= addr - value < 1 << 24 and (best[0] < 0 or value > raw[best[0]]):
            best = (i, addr - value)
    return best


class Recorder:
    """A trace sink (see runner.Sink) that writes the session file."""

    def __init__(self, out: TextIO, argv: list[str], devices: dict[str, Any]) -> None:
        self.out = out
        self.started = time.time()
        self.seq = 0
        self.calls = 0
        header = {"ptsandbox_record": FORMAT, "argv": argv, "started": self.started}
        header["devices"] = devices
        self._write(header)

    def _write(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj) + "\n")
        self.out.flush()

    def write(self, rec: dict[str, Any]) -> None:
        self.seq += 1
        line: dict[str, Any] = {
            "seq": self.seq,
            "t": round(rec["time"] - self.started, 6),
            "pid": rec["pid"],
            "tid": rec["tid"],
            "kind": rec["kind"],
        }
        if rec["kind"] == "exit":
            line["status"] = rec["status"]
            self._write(line)
            return
        self.calls += 1
        raw = rec.get("raw", [])
        moved: dict[str, list[list[Any]]] = {"in": [], "out": []}
        for direction, addr, data in rec.get("transfers", []):
            index, offset = _relative(raw, addr)
            moved[direction].append([index, offset, data])
        path = next((a["path"] for a in rec["args"] if isinstance(a, dict) and "path" in a), None)
        if path is None and rec["args"] and isinstance(rec["args"][0], dict):
            path = rec["args"][0].get("str")  # open: the path it names
        line.update(
            comm=rec.get("comm", ""),
            syscall=rec["syscall"],
            device=rec.get("device"),
            path=path,
            text=_full_text(rec),
            args=rec["args"],
            raw=raw,
            result=rec["result"],
            duration=rec["duration"],
            **moved,
        )
        self._write(line)


def _full_text(rec: dict[str, Any]) -> str:
    """The call as one strace line, even for the halves of a call that slept."""
    whole = {**rec, "kind": "call"}
    if rec["kind"] == "unfinished":  # its outputs are not there yet: `read(3</dev/x>) = ?`
        whole["args"] = rec["args"][: rec.get("first_output") or len(rec["args"])]
    return trace_format.format_text(whole, trace_format.TraceOptions()).split("] ", 1)[1]


def load(path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the call lines of a session file; ValueError if it is not one."""
    try:
        with open(path) as f:
            lines = [json.loads(x) for x in f if x.strip()]
    except OSError as e:
        raise ValueError(f"{path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a ptsandbox recording (line {e.lineno}: {e.msg})") from None
    if not lines or lines[0].get("ptsandbox_record") != FORMAT:
        raise ValueError(f"{path}: not a ptsandbox recording (no format {FORMAT} header)")
    return lines[0], lines[1:]
