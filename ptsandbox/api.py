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
import os
import re
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .devices import BUILTIN
from .devices.base import Device
from .supervisor import Supervisor, exit_code_of
from .syscalls import TraceEvent

DEFAULT_TIMEOUT = 10.0


class ExpectTimeout(AssertionError):
    """A pattern did not appear in time; the message shows what did."""


class Proc:
    """A program running in a sandbox, with pipes for stdin, stdout and stderr."""

    def __init__(self, sandbox: Sandbox, argv: Sequence[str], stdin: bytes | None, **kw: Any):
        self.sandbox = sandbox
        self.argv = list(argv)
        self.trace_start = len(sandbox.trace)  # its calls are recorded after this index
        in_r, self._in_w = os.pipe2(os.O_CLOEXEC)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        try:
            self.pid = sandbox.sup.spawn(self.argv, stdin=in_r, stdout=out_w, stderr=err_w, **kw)
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        self._out = bytearray()
        self._err = bytearray()
        self.max_output: int | None = None  # stdout+stderr bytes before the program is killed
        self.output_exceeded = False
        self._pos = 0  # how much of stdout `expect` has consumed
        self._open_fds = {out_r: self._out, err_r: self._err}
        for fd in self._open_fds:
            os.set_blocking(fd, False)
            sandbox.sup.add_reader(fd, self._on_readable)
        if stdin is not None:
            self.send(stdin)
            self.close_stdin()

    # -- output ------------------------------------------------------------------

    def _on_readable(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if data:
            self._open_fds[fd].extend(data)
            if self.max_output is not None and len(self._out) + len(self._err) > self.max_output:
                self.output_exceeded = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.sandbox.sup.remove_reader(fd)
                os.close(fd)
                del self._open_fds[fd]
        else:
            self.sandbox.sup.remove_reader(fd)
            os.close(fd)
            del self._open_fds[fd]

    def drain(self) -> None:
        """Read whatever the program has written so far (without waiting)."""
        for fd in list(self._open_fds):
            self._on_readable(fd)

    @property
    def output(self) -> str:
        """Everything the program wrote to stdout so far."""
        return self._out.decode(errors="replace")

    @property
    def stderr(self) -> str:
        return self._err.decode(errors="replace")

    def lines(self) -> list[str]:
        return self.output.splitlines()

    # -- input ---------------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            data = data.encode()
        if self._in_w < 0:
            raise ValueError(f"{self.argv[0]}: stdin is already closed")
        os.write(self._in_w, data)

    def sendline(self, line: str = "") -> None:
        self.send(line + "\n")

    def close_stdin(self) -> None:
        if self._in_w >= 0:
            os.close(self._in_w)
            self._in_w = -1

    # -- waiting -------------------------------------------------------------------

    def expect(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> re.Match[str]:
        """Wait for `pattern` (a regex) in stdout after the last match; return the match."""
        regex = re.compile(pattern)
        found: list[re.Match[str]] = []

        def seen() -> bool:
            m = regex.search(self.output, self._pos)
            if m:
                found.append(m)
            return bool(m) or (self.exited and not self._open_fds)

        self.sandbox.serve_until(seen, timeout)
        if not found:
            state = f"exited with {self.exit_code}" if self.exited else "still running"
            raise ExpectTimeout(
                f"{self.argv[0]}: {pattern!r} not seen within {timeout}s ({state}); "
                f"stdout after the last match: {self.output[self._pos :]!r}; "
                f"stderr: {self.stderr!r}"
            )
        self._pos = found[0].end()
        return found[0]

    def expect_all(self, patterns: Iterable[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every pattern has appeared after the last match, in any order
        (messages from different senders may arrive in either order)."""
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
                f"{self.argv[0]}: {missing!r} not seen within {timeout}s; "
                f"stdout after the last match: {self.output[self._pos :]!r}"
            )
        self._pos = max(m.end() for m in matches if m is not None)

    def expect_exact_lines(self, expected: Iterable[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        for line in expected:
            self.expect(re.escape(line) + r"\n", timeout)

    @property
    def status(self) -> int | None:
        return self.sandbox.sup.programs[self.pid].status

    @property
    def exited(self) -> bool:
        return self.status is not None

    @property
    def exit_code(self) -> int | None:
        return None if self.status is None else exit_code_of(self.status)

    def wait(self, timeout: float = DEFAULT_TIMEOUT, close_stdin: bool = True) -> int:
        """Wait for the program to end and its output to be read; return the exit code.

        Closes its stdin first (end of input) unless `close_stdin` is false."""
        if close_stdin:
            self.close_stdin()
        ok = self.sandbox.serve_until(lambda: self.exited and not self._open_fds, timeout)
        if not ok:
            raise ExpectTimeout(f"{self.argv[0]} did not exit within {timeout}s: {self.output!r}")
        assert self.exit_code is not None
        return self.exit_code

    def wait_blocked(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until some thread of this program sleeps in a device call."""
        ok = self.sandbox.serve_until(
            lambda: any(
                p.thread.tgid == self.pid for p in self.sandbox.sup.syscalls.parked.values()
            ),
            timeout,
        )
        if not ok:
            raise ExpectTimeout(f"{self.argv[0]} did not block within {timeout}s")

    def wait_stopped(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every thread of this program is in a job-control stop (SIGSTOP)."""

        def stopped() -> bool:
            threads = [t for t in self.sandbox.sup.tracer.threads.values() if t.tgid == self.pid]
            return bool(threads) and all(t.group_stopped for t in threads)

        if not self.sandbox.serve_until(stopped, timeout):
            raise ExpectTimeout(f"{self.argv[0]} did not stop within {timeout}s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        os.kill(self.pid, sig)


class Sandbox:
    """A private supervisor with its own devices (default: the built-in ones)."""

    def __init__(
        self,
        devices: Iterable[Device] | None = None,
        trace: bool = True,
        process_limit: int | None = None,
    ) -> None:
        if devices is None:
            devices = [cls() for cls in BUILTIN.values()]
        self.sup = Supervisor(devices, process_limit=process_limit)
        self.procs: list[Proc] = []
        if trace:
            self.sup.syscalls.events = []
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

    def spawn(self, argv: Sequence[str], stdin: bytes | None = None, **kwargs: Any) -> Proc:
        p = Proc(self, argv, stdin, **kwargs)
        self.procs.append(p)
        return p

    def serve_until(self, condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Run the supervisor's loop until `condition()` or the timeout; return whether met."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sup.step(min(left, 0.5))
        return True

    def settle(self, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Serve until every program has ended."""
        return self.serve_until(lambda: not self.sup.running(), timeout)

    def stats(self) -> dict[str, Any]:
        return self.sup.stats()

    def close(self) -> None:
        for p in self.procs:
            p.close_stdin()
            for fd in list(p._open_fds):
                self.sup.remove_reader(fd)
                os.close(fd)
            p._open_fds.clear()
        self.sup.close()
