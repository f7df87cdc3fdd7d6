"""The Python API: a private sandbox to spawn programs in and talk to them.

    with Sandbox() as sb:                       # chatroom (and the other built-ins)
        p1 = sb.spawn(["./joinchat", "P1"])
        p1.expect("You joined as P1")
        p1.sendline("Hello")
        p1.wait()

Everything runs in the calling thread: while a `Proc` method waits, it serves
the supervisor's loop, so tracees make progress exactly while you wait for
them. Waits are on events (output arriving, a process ending, a thread
blocking) with a timeout, never on sleeps.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import signal
import struct
import termios
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .devices import BUILTIN
from .devices.base import Device
from .exitstatus import ExitStatus
from .supervisor import Supervisor
from .syscalls import TraceEvent
from .tracer import Thread

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ProcessExit:
    """A traced process that ended: a spawned program or one of its children."""

    pid: int
    argv: list[str]
    status: ExitStatus
    parent: int | None  # the forking process, for a child
    time: float  # time.monotonic()


class ExpectTimeout(AssertionError):
    """A pattern did not appear in time; the message shows what did."""


STDIO_MODES = ("pty", "pipe")
_EOF = b"\x04"  # the terminal's end-of-input character (VEOF, ^D)


def _open_terminal() -> tuple[int, int]:
    """A pseudo-terminal pair (master, slave) as a student's terminal, minus echo.

    A C program's stdout on a terminal is line-buffered (on a pipe: fully
    buffered, so a plain printf shows nothing until exit), and a read(0) gets
    one line at a time. Echo is off: what the grader types is not output the
    program printed. Both ends are close-on-exec; the child gets the slave by
    dup2, as with pipes."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~(termios.ECHO | termios.ECHONL)
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return master, slave


class Proc:
    """A program running in a sandbox.

    stdio="pty" (the default): stdin and stdout are a pseudo-terminal, as when
    the student ran it (line-buffered stdout, one line per read of stdin, "\r\n"
    line ends, shown here as "\n"); stderr is a pipe of its own, so errors can
    be told from output. stdio="pipe": stdin, stdout and stderr are pipes.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        argv: Sequence[str],
        stdin: bytes | None,
        stdio: str = "pty",
        **kw: Any,
    ):
        if stdio not in STDIO_MODES:
            raise ValueError(f"stdio must be one of {', '.join(STDIO_MODES)}, not {stdio!r}")
        self.sandbox = sandbox
        self.argv = list(argv)
        self.stdio = stdio
        self.trace_start = len(sandbox.trace)  # its calls are recorded after this index
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        if stdio == "pty":
            out_r, child_end = _open_terminal()
            in_child, out_w = child_end, child_end
            self._in_w = os.dup(out_r)  # writes to the master are the keyboard
        else:
            in_child, self._in_w = os.pipe2(os.O_CLOEXEC)
            out_r, out_w = os.pipe2(os.O_CLOEXEC)
        try:
            self.pid = sandbox.sup.spawn(
                self.argv, stdin=in_child, stdout=out_w, stderr=err_w, **kw
            )
        except BaseException:
            for fd in (out_r, err_r, self._in_w):
                os.close(fd)
            raise
        finally:
            for fd in {in_child, out_w, err_w}:
                os.close(fd)
        self._out = bytearray()
        self._err = bytearray()
        self.max_output: int | None = None  # stdout+stderr bytes before the program is killed
        self.output_exceeded = False
        self.signals_sent: set[int] = set()  # by the caller (kill) or the output limit
        self._pos = 0  # how much of stdout `expect` has consumed
        self._open_fds = {out_r: self._out, err_r: self._err}
        for fd in self._open_fds:
            os.set_blocking(fd, False)
            sandbox.sup.add_reader(fd, self._on_readable)
        self._pending = bytearray()  # input the terminal or pipe has not taken yet
        self._stdin_closing = False  # close once the pending input is written
        self._writing = False  # the loop writes the pending input when it can
        self._last_sent = b"\n"
        os.set_blocking(self._in_w, False)
        if stdin is not None:
            self.send(stdin)
            self.close_stdin()

    @property
    def name(self) -> str:
        """The command line as messages show it (the program's file name, not its path)."""
        return " ".join([os.path.basename(self.argv[0]), *self.argv[1:]])

    # -- output ------------------------------------------------------------------

    def _on_readable(self, fd: int) -> None:
        if fd not in self._open_fds:  # closed already (drained to its end)
            return
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:  # EIO: a terminal's master once every slave fd is closed
            if e.errno != errno.EIO:
                raise
            data = b""
        if data:
            self._open_fds[fd].extend(data)
            if self.max_output is not None and len(self._out) + len(self._err) > self.max_output:
                self.output_exceeded = True
                self.signals_sent.add(signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self._close_output(fd)
        else:
            self._close_output(fd)

    def _close_output(self, fd: int) -> None:
        self.sandbox.sup.remove_reader(fd)
        os.close(fd)
        del self._open_fds[fd]

    def drain(self) -> None:
        """Read whatever the program has written so far (without waiting)."""
        for fd in list(self._open_fds):
            self._on_readable(fd)

    @property
    def output(self) -> str:
        """Everything the program wrote to stdout so far ("\r\n" from a terminal as "\n")."""
        text = self._out.decode(errors="replace")
        return text.replace("\r\n", "\n") if self.stdio == "pty" else text

    @property
    def output_closed(self) -> bool:
        """Its stdout and stderr are closed: it, and whatever it forked, write no more."""
        return not self._open_fds

    @property
    def stderr(self) -> str:
        return self._err.decode(errors="replace")

    def lines(self) -> list[str]:
        return self.output.splitlines()

    # -- input ---------------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        """Type `data` (queued: written as fast as the program's terminal or pipe takes it)."""
        if isinstance(data, str):
            data = data.encode()
        if self._in_w < 0 or self._stdin_closing:
            raise ValueError(f"{self.argv[0]}: stdin is already closed")
        if data:
            self._last_sent = data[-1:]
            self._pending += data
            self._flush_input()

    def sendline(self, line: str = "") -> None:
        self.send(line + "\n")

    def close_stdin(self) -> None:
        """End of input: on a terminal, ^D (twice after a partial line), as typed
        by a person; on a pipe, its close."""
        if self._in_w < 0 or self._stdin_closing:
            return
        if self.stdio == "pty":
            self._pending += _EOF if self._last_sent == b"\n" else _EOF * 2
        self._stdin_closing = True
        self._flush_input()

    def _flush_input(self, fd: int | None = None) -> None:
        if self._in_w < 0:
            return
        try:
            while self._pending:
                n = os.write(self._in_w, self._pending)
                del self._pending[:n]
        except BlockingIOError:
            if not self._writing:  # go on when it takes more (the program reads its input)
                self.sandbox.sup.add_writer(self._in_w, self._flush_input)
                self._writing = True
            return
        except OSError as e:  # nobody reads it any more (the program ended)
            if e.errno not in (errno.EPIPE, errno.EIO):
                raise
            self._pending.clear()
        if self._writing:
            self.sandbox.sup.remove_reader(self._in_w)
            self._writing = False
        if self._stdin_closing:  # (a terminal stays open: the master is our other fd)
            self._close_input()

    def _close_input(self) -> None:
        if self._in_w >= 0:
            self.sandbox.sup.remove_reader(self._in_w)
            os.close(self._in_w)
            self._in_w = -1
            self._pending.clear()

    # -- waiting -------------------------------------------------------------------

    def expect(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> re.Match[str]:
        """Wait for `pattern` (a regex) in stdout after the last match; return the match."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message
        regex = re.compile(pattern)
        found: list[re.Match[str]] = []

        def seen() -> bool:
            m = regex.search(self.output, self._pos)
            if m:
                found.append(m)
            return bool(m) or (self.exited and not self._open_fds)

        self.sandbox.serve_until(seen, timeout)
        if not found:
            state = f"it {self.exit_status}" if self.exited else "still running"
            raise ExpectTimeout(
                f"{self.name}: {pattern!r} not seen within {timeout}s ({state}); "
                f"stdout after the last match: {self.output[self._pos :]!r}; "
                f"stderr: {self.stderr!r}"
            )
        self._pos = found[0].end()
        return found[0]

    def expect_all(self, patterns: Iterable[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every pattern has appeared after the last match, in any order
        (messages from different senders may arrive in either order)."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message
        regexes = [re.compile(p) for p in patterns]

        def all_seen() -> bool:
            return all(r.search(self.output, self._pos) for r in regexes) or (
                self.exited and not self._open_fds
            )

        self.sandbox.serve_until(all_seen, timeout)
        matches = [r.search(self.output, self._pos) for r in regexes]
        missing = [r.pattern for r, m in zip(regexes, matches, strict=True) if m is None]
        if missing:
            raise ExpectTimeout(
                f"{self.name}: {missing!r} not seen within {timeout}s; "
                f"stdout after the last match: {self.output[self._pos :]!r}"
            )
        self._pos = max(m.end() for m in matches if m is not None)

    def expect_exact_lines(self, expected: Iterable[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        __tracebackhide__ = True  # pytest shows the caller's line and the message
        for line in expected:
            self.expect(re.escape(line) + r"\n", timeout)

    @property
    def status(self) -> int | None:
        return self.sandbox.sup.programs[self.pid].status

    @property
    def exited(self) -> bool:
        return self.status is not None

    @property
    def exit_status(self) -> ExitStatus | None:
        """How it ended: `code` (its exit status) or `signal`; None while it runs."""
        return None if self.status is None else ExitStatus.from_wait(self.status)

    @property
    def exit_code(self) -> int | None:
        """The shell's `$?` (128+N for signal N); see `exit_status` to tell them apart."""
        return None if self.status is None else ExitStatus.from_wait(self.status).shell_code

    def wait(self, timeout: float = DEFAULT_TIMEOUT, close_stdin: bool = True) -> int:
        """Wait for the program to end and its output to be read; return the exit code.

        Closes its stdin first (end of input) unless `close_stdin` is false."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message
        if close_stdin:
            self.close_stdin()
        ok = self.sandbox.serve_until(
            lambda: self.exited and not self._open_fds, timeout, device_state=False
        )
        if not ok:
            raise ExpectTimeout(f"{self.name} did not exit within {timeout}s: {self.output!r}")
        assert self.exit_code is not None
        return self.exit_code

    def wait_blocked(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until some thread of this program sleeps in a device call."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message
        sup = self.sandbox.sup
        ok = self.sandbox.serve_until(
            lambda: (
                any(p.thread.tgid == self.pid for p in sup.syscalls.parked.values())
                or any(t.tgid == self.pid for t, _f in sup.pushed_sleepers())
            ),
            timeout,
            every=0.01,  # a pushed read sleeps in the kernel: no event tells of it
        )
        if not ok:
            raise ExpectTimeout(f"{self.argv[0]} did not block within {timeout}s")

    def wait_stopped(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every thread of this program is in a job-control stop (SIGSTOP)."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message

        def stopped() -> bool:
            threads = [t for t in self.sandbox.sup.tracer.threads.values() if t.tgid == self.pid]
            return bool(threads) and all(t.group_stopped for t in threads)

        if not self.sandbox.serve_until(stopped, timeout):
            raise ExpectTimeout(f"{self.argv[0]} did not stop within {timeout}s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.signals_sent.add(sig)
        os.kill(self.pid, sig)


class Sandbox:
    """A private supervisor with its own devices (default: the built-in ones)."""

    def __init__(
        self,
        devices: Iterable[Device] | None = None,
        trace: bool = True,
        process_limit: int | None = None,
        stdio: str = "pty",
        backend: str | None = None,
    ) -> None:
        if devices is None:
            devices = [cls() for cls in BUILTIN.values()]
        if stdio not in STDIO_MODES:
            raise ValueError(f"stdio must be one of {', '.join(STDIO_MODES)}, not {stdio!r}")
        self.stdio = stdio  # spawn's default
        # backend: "ptrace" or "notify" (device calls as seccomp notifications);
        # None: $PTSANDBOX_BACKEND, else ptrace
        self.sup = Supervisor(devices, process_limit=process_limit, backend=backend)
        self.procs: list[Proc] = []
        # every traced process that ended, the programs' children too, in order
        self.exits: list[ProcessExit] = []
        self._argv: dict[int, tuple[list[str], int | None]] = {}
        self.sup.task_hooks.append(self._on_new_task)
        self.sup.exit_hooks.append(self._on_exit)
        if trace:
            self.sup.syscalls.events = []
            self.sup.vfs.pushed_reads = False  # every read is recorded
            self.sup.syscalls.event_hooks.append(self._mark_output)
        # output position of each program when each of its calls was recorded
        self.output_marks: dict[int, int] = {}

    def _mark_output(self, event: TraceEvent) -> None:
        """Record how much the caller had printed when this call happened (its
        stdout is read up to now first: what it printed before the call is in)."""
        for p in self.procs:
            if p.pid == event.pid:
                p.drain()
                self.output_marks[id(event)] = len(p.output)

    def _on_new_task(self, thread: Thread, parent: Thread | None) -> None:
        if thread.tid != thread.tgid or parent is None:
            return  # a thread, or a spawned program (its argv is known)
        try:
            with open(f"/proc/{thread.tid}/cmdline", "rb") as f:  # a fork: the parent's
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
        except OSError:
            argv = []
        self._argv[thread.tgid] = (argv or [thread.comm()], parent.tgid)

    def _on_exit(self, thread: Thread, status: int) -> None:
        if thread.tid != thread.tgid or self.sup.tracer.killing:
            return  # a thread; or the sandbox is closing and kills what is left
        program = self.sup.programs.get(thread.tgid)
        argv, parent = (program.argv, None) if program else self._argv.get(thread.tgid, ([], None))
        self.exits.append(
            ProcessExit(thread.tgid, argv, ExitStatus.from_wait(status), parent, time.monotonic())
        )

    def parent_of(self, pid: int) -> int | None:
        """The process that forked `pid` (None for a spawned program or a stranger)."""
        return self._argv.get(pid, ([], None))[1]

    def output_at(self, event: TraceEvent) -> int:
        """The caller's stdout length when `event` happened (see Proc.output)."""
        return self.output_marks.get(id(event), 0)

    @property
    def trace(self) -> list[TraceEvent]:
        """Every call that touched the sandbox so far: pid, syscall, args, result, errno, time."""
        return self.sup.syscalls.events if self.sup.syscalls.events is not None else []

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def devices(self) -> dict[str, Device]:
        return self.sup.devices

    def spawn(
        self,
        argv: Sequence[str],
        stdin: bytes | None = None,
        stdio: str | None = None,
        **kwargs: Any,
    ) -> Proc:
        """Start `argv` traced; stdio "pty" (a terminal, the default) or "pipe" (see Proc)."""
        p = Proc(self, argv, stdin, stdio or self.stdio, **kwargs)
        self.procs.append(p)
        return p

    def serve_until(
        self,
        condition: Callable[[], bool],
        timeout: float = DEFAULT_TIMEOUT,
        every: float = 0.5,
        device_state: bool = True,
    ) -> bool:
        """Run the supervisor's loop until `condition()` or the timeout; return whether
        met. `condition` is asked after each event, and at least every `every` seconds.
        `device_state=False`: it changes only with events (exits, output), not with
        a device call a listener thread served (which then need not wake the loop)."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sup.step(min(left, every), pokes=device_state)
        return True

    def settle(self, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Serve until every program has ended."""
        return self.serve_until(lambda: not self.sup.running(), timeout)

    def stats(self) -> dict[str, Any]:
        return self.sup.stats()

    def close(self) -> None:
        self.sup.close()  # first: a program may still have a terminal open
        for p in self.procs:
            p._close_input()
            for fd in list(p._open_fds):
                os.close(fd)
            p._open_fds.clear()
