"""strace-style rendering of the calls that touched the sandbox (`run --trace`)."""

from __future__ import annotations

import errno
import os

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
