"""Why a scenario failed, from what the supervisor saw: deaths, blocked calls, the trace.

Every line here states a fact the supervisor observed (a wait status, a parked
call, /proc's view of a sleeping thread, a recorded call), so a failure
message built from them is true. The suites' own checks add what was
expected; these helpers add what happened.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..api import ProcessExit, Sandbox
from ..calltrace import line as trace_line
from ..exitstatus import SIGNAL_HINTS
from ..syscalls import TraceEvent
from ..sysnr import NAMES

MAX_SHOWN = 80  # characters of an expected text or an argv in a message


def short(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` as a Python literal, its middle elided past `limit` characters."""
    if len(text) <= limit:
        return repr(text)
    keep = (limit - 1) // 2
    return f"{text[:keep]!r}…({len(text) - 2 * keep} more characters)…{text[-keep:]!r}"


def call_line(e: TraceEvent) -> str:
    return trace_line(e.pid, f"{e.syscall}({e.args})", e.result)


def trace_tail(
    events: Iterable[TraceEvent], last: int = 12, label: Callable[[int], str] | None = None
) -> list[str]:
    """The last calls, strace style, each with its program's name when `label` says it."""
    tail = list(events)[-last:]
    return [call_line(e) + (f"  ({label(e.pid)})" if label else "") for e in tail]


def signal_deaths(sandbox: Sandbox, name_of: Callable[[int], str]) -> list[ProcessExit]:
    """Processes of this sandbox killed by a signal nobody here sent on purpose."""
    sent = {p.pid: p.signals_sent for p in sandbox.procs}
    return [
        e
        for e in sandbox.exits
        if e.status.signal is not None and e.status.signal not in sent.get(e.pid, set())
    ]


def describe_death(sandbox: Sandbox, death: ProcessExit, name_of: Callable[[int], str]) -> str:
    """`joinchat P1` (pid 12) was killed by SIGSEGV (an invalid memory access); its
    last calls: ..."""
    sig = death.status.signal
    hint = SIGNAL_HINTS.get(sig) if sig is not None else None  # type: ignore[call-overload]
    text = f"`{name_of(death.pid)}` (pid {death.pid}) {death.status}"
    if hint:
        text += f" ({hint})"
    calls = [e for e in sandbox.trace if e.pid == death.pid]
    if calls:
        text += "; its last calls:\n    " + "\n    ".join(trace_tail(calls, 5))
    else:
        text += "; it made no call that touched the sandbox"
    return text


# -- what a live process is doing -------------------------------------------------

_FD_CALLS = {"read", "write", "readv", "writev", "pread64", "pwrite64", "ioctl", "fsync"}
_WHAT = {
    "wait4": "waiting for a child to exit",
    "waitid": "waiting for a child to exit",
    "futex": "waiting on a futex (a lock, a condition or pthread_join)",
    "nanosleep": "sleeping",
    "clock_nanosleep": "sleeping",
    "pause": "waiting for a signal",
    "rt_sigsuspend": "waiting for a signal",
    "rt_sigtimedwait": "waiting for a signal",
}


def _fd_name(sandbox: Sandbox, tgid: int, fd: int) -> str:
    """What fd `fd` of `tgid` is: a virtual file's path, its terminal, a pipe..."""
    try:
        target = os.readlink(f"/proc/{tgid}/fd/{fd}")
    except OSError:
        return f"fd {fd}"
    std = {0: " (stdin)", 1: " (stdout)", 2: " (stderr)"}.get(fd, "")
    if target.startswith("socket:["):
        f = sandbox.sup.vfs.files.get(int(target[8:-1]))  # a virtual file's backing end
        return f"fd {fd} = {f.path if f is not None else 'a socket'}{std}"
    if target.startswith("/dev/pts/"):
        return f"fd {fd} = its terminal{std}"
    if target.startswith("pipe:["):
        return f"fd {fd} = a pipe{std}"
    return f"fd {fd} = {target}{std}"


def host_call(sandbox: Sandbox, tid: int, tgid: int) -> str:
    """What a thread not parked by the supervisor is doing, from /proc/TID/syscall."""
    try:
        fields = Path(f"/proc/{tgid}/task/{tid}/syscall").read_text().split()
    except OSError:
        return "gone"
    if not fields or fields[0] == "running":
        return "running (on a CPU: computing or looping)"
    nr = int(fields[0])
    if nr < 0:
        return "stopped by the tracer"
    name = NAMES.get(nr, f"syscall {nr}")
    if name in _WHAT:
        return f"in {name}: {_WHAT[name]}"
    if name in _FD_CALLS and len(fields) > 1:
        return f"in {name}({_fd_name(sandbox, tgid, int(fields[1], 16))}, ...)"
    if name in ("poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait"):
        return f"in {name}: waiting for one of its files to be ready"
    return f"in {name}"


def blocked_report(sandbox: Sandbox, name_of: Callable[[int], str]) -> list[str]:
    """One line per live thread: the device call it sleeps in (and for how long),
    or what /proc says it is doing."""
    now = time.monotonic()
    parked = {p.thread.tid: p for p in sandbox.sup.syscalls.parked.values()}
    lines = []
    threads = sorted(sandbox.sup.tracer.threads.values(), key=lambda t: (t.tgid, t.tid))
    for t in threads:
        thread = f", thread {t.tid}" if t.tid != t.tgid else ""
        who = f"`{name_of(t.tgid)}` (pid {t.tgid}{thread})"
        p = parked.get(t.tid)
        if p is not None:
            where = f" on {p.file.path}" if p.file is not None and p.file.path else ""
            lines.append(f"{who} sleeps in {p.what}{where} since {now - p.since:.1f}s ago")
        elif t.group_stopped:
            lines.append(f"{who} is stopped (job control)")
        else:
            lines.append(f"{who} is {host_call(sandbox, t.tid, t.tgid)}")
    return lines
