"""What a scenario sees: its clients, waits bounded by its limits, the trace, fail()."""

from __future__ import annotations

import os
import re
import resource
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..api import ExpectTimeout, Proc, Sandbox
from ..devices.base import Device
from ..devices.kmodule import KernelModule
from ..syscalls import TraceEvent
from . import evidence
from .build import Built
from .model import Limits, ScenarioFailed

# Waits for a correct client's answer take milliseconds; the timeouts only bound
# how long a broken one can take. PTSANDBOX_GRADE_TIME_SCALE shortens them
# (the project's own tests grade dozens of broken fixtures).
TIME_SCALE = float(os.environ.get("PTSANDBOX_GRADE_TIME_SCALE", "1"))


def _apply_limits(limits: Limits) -> Callable[[], None]:
    def preexec() -> None:  # runs in the client, before exec
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        memory = limits.memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return preexec


def _why(why: str) -> str:
    return f"{why.strip()}: " if why.strip() else ""


class ScenarioContext:
    def __init__(
        self,
        sandbox: Sandbox,
        built: Built,
        limits: Limits,
        workdir: Path,
        module: KernelModule | None = None,
    ) -> None:
        self.sandbox = sandbox
        # a module scenario: the student's module, loaded in place of the reference device
        self.module = module
        self.built = built
        self.limits = limits
        self.workdir = workdir
        self.wall_s = limits.wall_s * TIME_SCALE
        self.deadline = time.monotonic() + self.wall_s
        self.procs: dict[str, Proc] = {}
        self._explained: set[int] = set()  # pids whose death a message already shows

    def device(self, name: str) -> Device:
        """The device the clients talk to: the reference `name`, or in a module
        scenario the student's module playing its part."""
        return self.module if self.module is not None else self.sandbox.devices[name]

    # -- clients ---------------------------------------------------------------

    def spawn(self, program: str, *args: str, label: str | None = None, stdio: str = "pty") -> Proc:
        """Start one of the submission's programs (a compile failure fails the scenario).

        On a terminal by default, as the student ran it; stdio="pipe" for pipes."""
        if program in self.built.failures:
            raise ScenarioFailed(f"{program} could not be built:\n{self.built.failures[program]}")
        path = self.built.programs[program]
        p = self.sandbox.spawn(
            [str(path), *args],
            cwd=str(self.workdir),
            preexec=_apply_limits(self.limits),
            stdio=stdio,
        )
        p.max_output = self.limits.output_kb << 10
        self.procs[label or f"{program} {' '.join(args)}".strip()] = p
        return p

    def shell(self, script: str) -> int:
        """Run a setup command (mknod, ...) in the sandbox; return its exit code."""
        p = self.sandbox.spawn(["sh", "-c", script], cwd=str(self.workdir), stdio="pipe")
        return p.wait(self.remaining())

    def remaining(self, wanted: float | None = None) -> float:
        """Time left for a wait of `wanted` seconds (scaled), within the scenario's limit."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ScenarioFailed(
                f"the scenario's time limit ({self.wall_s:.0f}s) ran out" + self._now()
            )
        return left if wanted is None else min(wanted * TIME_SCALE, left)

    @staticmethod
    def name_of(p: Proc) -> str:
        return " ".join([Path(p.argv[0]).name, *p.argv[1:]])[:60]

    def who(self, pid: int) -> str:
        """A process as a report names it: the client's command line, or for a
        child it forked, "child of ..." (the grader learns children from the trace)."""
        for p in self.sandbox.procs:
            if p.pid == pid:
                return self.name_of(p)
        parent = next((e.parent for e in self.sandbox.exits if e.pid == pid), None)
        if parent is None:
            parent = self.sandbox.parent_of(pid)
        return f"child of {self.who(parent)}" if parent is not None else f"pid {pid}"

    def expect(self, p: Proc, text: str, timeout: float = 10.0, why: str = "") -> None:
        """Wait for `text` (literal) in p's stdout after what was already matched."""
        self._expect(p, [text], timeout, why)

    def expect_all(
        self, p: Proc, texts: Iterable[str], timeout: float = 10.0, why: str = ""
    ) -> None:
        self._expect(p, list(texts), timeout, why)

    def _expect(self, p: Proc, texts: list[str], timeout: float, why: str) -> None:
        wait = self.remaining(timeout)
        try:
            p.expect_all([re.escape(t) for t in texts], wait)
        except ExpectTimeout:
            self._check_limits(p)
            shown = p.output[-400:]
            wanted = " and ".join(evidence.short(t) for t in texts)
            raise ScenarioFailed(
                f"{_why(why)}expected {wanted} in the output of "
                f"`{self.name_of(p)}` within {wait:.1f}s; {self._state(p)}. "
                f"It printed: {evidence.short(shown, 400) if shown else '(nothing)'}"
                + self._stderr(p)
                + self._calls()
                + self._now()
            ) from None

    def wait(self, p: Proc, timeout: float = 10.0, why: str = "", close_stdin: bool = True) -> int:
        """Wait for p to exit and close its output (closing its stdin first unless
        told not to); return its exit status (0..255: exit(-1) is 255, an error
        exit like any non-zero one).

        A death by a signal the grader did not send fails the scenario at once
        (children it leaves behind need not end): a crash is never a correct way
        to end, and the message names the signal."""
        wait = self.remaining(timeout)
        if close_stdin:
            p.close_stdin()

        def crashed() -> bool:
            status = p.exit_status
            return status is not None and status.signal not in (None, *p.signals_sent)

        done = self.sandbox.serve_until(lambda: (p.exited and p.output_closed) or crashed(), wait)
        self._check_limits(p)
        if crashed():
            self._explained.add(p.pid)
            death = next(e for e in self.sandbox.exits if e.pid == p.pid)
            raise ScenarioFailed(
                _why(why)
                + evidence.describe_death(self.sandbox, death, self.who)
                + f"\n  It printed: {evidence.short(p.output[-300:], 300)}"
                + self._stderr(p)
                + self._now("its children at that moment")
            )
        if not done:
            if p.exited:  # what it forked still holds its stdout or stderr
                what = (
                    f"{p.exit_status}, but processes it started still hold its output "
                    f"open after {wait:.1f}s"
                )
            else:
                what = f"did not exit within {wait:.1f}s"
            raise ScenarioFailed(
                f"{_why(why)}`{self.name_of(p)}` {what}. "
                f"It printed: {evidence.short(p.output[-300:], 300)}"
                + self._stderr(p)
                + self._calls()
                + self._now()
            )
        status = p.exit_status
        assert status is not None
        return status.code if status.code is not None else status.shell_code

    def serve(self, seconds: float) -> float:
        """Let the programs run for a while (for checks over time, e.g. busy-polling);
        return how long that was (scaled, within the limit), for a true message."""
        span = self.remaining(seconds)
        end = time.monotonic() + span
        self.sandbox.serve_until(lambda: time.monotonic() >= end, span + 1)
        return span

    def _check_limits(self, p: Proc) -> None:
        if p.output_exceeded:
            raise ScenarioFailed(
                f"`{self.name_of(p)}` printed more than {self.limits.output_kb} KiB: stopped"
            )
        if self.sandbox.sup.process_limit_hit:
            raise ScenarioFailed(
                f"tried to run more than {self.limits.processes} processes at once"
            )

    @staticmethod
    def _state(p: Proc) -> str:
        return f"it {p.exit_status}" if p.exit_status is not None else "it is still running"

    @staticmethod
    def _stderr(p: Proc) -> str:
        return f" Its stderr: {evidence.short(p.stderr[-300:], 300)}" if p.stderr.strip() else ""

    def _calls(self, last: int = 12) -> str:
        """The scenario's last calls, every client's (the other side of an exchange
        explains a missing line as much as the client's own)."""
        lines = evidence.trace_tail(self.sandbox.trace, last, self.who)
        if not lines:
            return ""
        return "\n  last calls that touched the device:\n    " + "\n    ".join(lines)

    def _now(self, title: str = "at that moment") -> str:
        """What each live process is doing at this moment (for a wait that timed out)."""
        lines = evidence.blocked_report(self.sandbox, self.who)
        return f"\n  {title}:\n    " + "\n    ".join(lines) if lines else ""

    def explain(self, message: str, timed_out: bool = False) -> str:
        """A failure message with what it does not say yet: every death by a signal
        in the scenario, and (after a timeout) what each process was doing."""
        extra = []
        for death in evidence.signal_deaths(self.sandbox, self.who):
            if death.pid not in self._explained:
                extra.append(evidence.describe_death(self.sandbox, death, self.who))
        if extra:
            message += "\n  killed by a signal in this scenario:\n  " + "\n  ".join(extra)
        if timed_out and "at that moment:" not in message and "children at" not in message:
            message += self._now()
        return message

    # -- the trace -------------------------------------------------------------

    def events(self, p: Proc | None = None, syscall: str | None = None) -> list[TraceEvent]:
        return [
            e
            for e in self.sandbox.trace
            if (p is None or e.pid == p.pid) and (syscall is None or e.syscall == syscall)
        ]

    def excerpt(self, p: Proc, last: int = 12) -> str:
        lines = evidence.trace_tail(self.events(p), last)
        return "\n  ".join(["trace (calls that touched the device):", *lines]) if lines else ""

    def fail(self, message: str, p: Proc | None = None) -> None:
        extra = f"\n  {self.excerpt(p)}" if p is not None and self.events(p) else ""
        raise ScenarioFailed(message + extra)

    def check(self, condition: bool, message: str, p: Proc | None = None) -> None:
        if not condition:
            self.fail(message, p)
