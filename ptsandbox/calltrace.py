"""strace-style rendering of the calls that touched the sandbox (`run --trace`)."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Any

MAX_STRING = 64


def quote(data: bytes, limit: int = MAX_STRING) -> str:
    """A C string literal for `data`, cut at `limit` bytes with `...` like strace."""
    out = []
    for b in data[:limit]:
        c = chr(b)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append(f"\\{b:o}")
    return '"' + "".join(out) + '"' + ("..." if len(data) > limit else "")


def result(value: int) -> str:
    """`= 10`, or `= -1 EINVAL (Invalid argument)`."""
    if -4096 < value < 0:
        code = -value
        return f"= -1 {errno.errorcode.get(code, str(code))} ({os.strerror(code)})"
    return f"= {value}"


def line(pid: int, call: str, value: int | None) -> str:
    tail = "= ? <blocked>" if value is None else result(value)
    return f"[pid {pid}] {call} {tail}"


_OPEN_FLAGS = [
    (os.O_CREAT, "O_CREAT"), (os.O_EXCL, "O_EXCL"), (os.O_NOCTTY, "O_NOCTTY"),
    (os.O_TRUNC, "O_TRUNC"), (os.O_APPEND, "O_APPEND"), (os.O_NONBLOCK, "O_NONBLOCK"),
    (os.O_DIRECTORY, "O_DIRECTORY"), (os.O_CLOEXEC, "O_CLOEXEC"), (0o10000000, "O_PATH"),
]  # fmt: skip


def open_flags(flags: int) -> str:
    """`O_RDWR|O_CLOEXEC` for an open(2) flags word."""
    names = [("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")[flags & 3]]
    names += [n for bit, n in _OPEN_FLAGS if flags & bit]
    return "|".join(names)


# --------------------------------------------------------------------------
# Structured arguments: what a trace event carries, shown as text or JSON


@dataclass(frozen=True)
class Fd:
    """A descriptor and the path it was opened by: `3</dev/chatroom>`."""

    fd: int
    path: str


@dataclass(frozen=True)
class Str:
    """Bytes shown as a C string literal (`"P1"`), cut at MAX_STRING like strace."""

    data: bytes


@dataclass(frozen=True)
class Sym:
    """A value shown symbolically: flags (`O_RDWR`), an ioctl command, an address."""

    text: str
    value: int | None = None


Arg = int | Fd | Str | Sym


@dataclass(frozen=True)
class Call:
    """One call as a trace shows it: `read(3</dev/chatroom>, "hi", 64)`.

    Arguments from `first_output` on are filled in by the call (read's buffer):
    a call that sleeps shows only those before it, strace's `<unfinished ...>`."""

    name: str
    args: tuple[Arg, ...]
    first_output: int | None = None

    @property
    def text(self) -> str:
        return ", ".join(arg_text(a) for a in self.args)


def arg_text(a: Arg) -> str:
    if isinstance(a, Fd):
        return f"{a.fd}<{a.path}>"
    if isinstance(a, Str):
        return quote(a.data)
    if isinstance(a, Sym):
        return a.text
    return str(a)


def arg_wire(a: Arg) -> Any:
    """A JSON-able form: int; {"fd", "path"}; {"str"} (bytes as latin-1); {"sym", "value"}."""
    if isinstance(a, Fd):
        return {"fd": a.fd, "path": a.path}
    if isinstance(a, Str):
        return {"str": a.data.decode("latin-1")}
    if isinstance(a, Sym):
        return {"sym": a.text, "value": a.value}
    return a


def wire_text(w: Any) -> str:
    """arg_text of an argument in its wire form."""
    if isinstance(w, dict):
        if "fd" in w:
            return f"{w['fd']}<{w['path']}>"
        if "str" in w:
            return quote(str(w["str"]).encode("latin-1"))
        return str(w["sym"])
    return str(w)


def wire_json(w: Any) -> Any:
    """The argument as a `--trace-format jsonl` user reads it (strings as text)."""
    if isinstance(w, dict):
        if "fd" in w:
            return {"fd": w["fd"], "path": w["path"]}
        if "str" in w:
            return w["str"]
        return w["sym"] if w.get("value") is None else {"value": w["value"], "name": w["sym"]}
    return w


def ioctl_cmd(cmd: int, named: str | None) -> Sym:
    """A command by the device's name for it, else `_IOC(_IOC_WRITE, 0x6b, 0x1, 0x20)`."""
    from .devices.ioctl import decode

    return Sym(named or decode(cmd), cmd)


def errno_name(value: int | None) -> str | None:
    if value is not None and -4096 < value < 0:
        return errno.errorcode.get(-value, str(-value))
    return None
