"""What a scenario sees: its clients, waits bounded by its limits, the trace, fail()."""

from __future__ import annotations

import os
import re
import resource
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..api import ExpectTimeout, Proc, Sandbox
from ..calltrace import line as trace_line
from ..syscalls import TraceEvent
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


class ScenarioContext:
    def __init__(self, sandbox: Sandbox, built: Built, limits: Limits, workdir: Path) -> None:
        self.sandbox = sandbox
        self.built = built
        self.limits = limits
        self.workdir = workdir
        self.wall_s = limits.wall_s * TIME_SCALE
        self.deadline = time.monotonic() + self.wall_s
        self.procs: dict[str, Proc] = {}

    # -- clients ---------------------------------------------------------------

    def spawn(self, program: str, *args: str, label: str | None = None) -> Proc:
        """Start one of the submission's programs (a compile failure fails the scenario)."""
        if program in self.built.failures:
            raise ScenarioFailed(f"{program} could not be built:\n{self.built.failures[program]}")
        path = self.built.programs[program]
        p = self.sandbox.spawn(
            [str(path), *args], cwd=str(self.workdir), preexec=_apply_limits(self.limits)
        )
        p.max_output = self.limits.output_kb << 10
        self.procs[label or f"{program} {' '.join(args)}".strip()] = p
        return p

    def shell(self, script: str) -> int:
        """Run a setup command (mknod, ...) in the sandbox; return its exit code."""
        p = self.sandbox.spawn(["sh", "-c", script], cwd=str(self.workdir))
        return p.wait(self.remaining())

    def remaining(self, wanted: float | None = None) -> float:
        """Time left for a wait of `wanted` seconds (scaled), within the scenario's limit."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ScenarioFailed(f"the scenario's time limit ({self.wall_s:.0f}s) ran out")
        return left if wanted is None else min(wanted * TIME_SCALE, left)

    @staticmethod
    def name_of(p: Proc) -> str:
        return " ".join([Path(p.argv[0]).name, *p.argv[1:]])[:60]

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
            shown = p.output[-400:] or "(nothing)"
            state = f"it exited with {p.exit_code}" if p.exited else "it is still running"
            raise ScenarioFailed(
                f"{why + ': ' if why else ''}expected {texts if len(texts) > 1 else texts[0]!r} "
                f"in the output of `{self.name_of(p)}` within {wait:.1f}s; {state}. "
                f"It printed: {shown!r}" + self._stderr(p)
            ) from None

    def wait(self, p: Proc, timeout: float = 10.0, why: str = "", close_stdin: bool = True) -> int:
        """Wait for p to exit (closing its stdin first unless told not to)."""
        wait = self.remaining(timeout)
        try:
            code = p.wait(wait, close_stdin=close_stdin)
        except ExpectTimeout:
            self._check_limits(p)
            raise ScenarioFailed(
                f"{why + ': ' if why else ''}`{self.name_of(p)}` did not exit within "
                f"{wait:.1f}s. It printed: {p.output[-300:]!r}"
            ) from None
        self._check_limits(p)
        return code

    def serve(self, seconds: float) -> None:
        """Let the programs run for a while (for checks over time, e.g. busy-polling)."""
        end = time.monotonic() + self.remaining(seconds)
        self.sandbox.serve_until(lambda: time.monotonic() >= end, seconds + 1)

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
    def _stderr(p: Proc) -> str:
        return f" Its stderr: {p.stderr[-300:]!r}" if p.stderr.strip() else ""

    # -- the trace -------------------------------------------------------------

    def events(self, p: Proc | None = None, syscall: str | None = None) -> list[TraceEvent]:
        return [
            e
            for e in self.sandbox.trace
            if (p is None or e.pid == p.pid) and (syscall is None or e.syscall == syscall)
        ]

    def excerpt(self, p: Proc, last: int = 12) -> str:
        lines = [
            trace_line(e.pid, f"{e.syscall}({e.args})", e.result) for e in self.events(p)[-last:]
        ]
        return "\n  ".join(["trace (calls that touched the device):", *lines]) if lines else ""

    def fail(self, message: str, p: Proc | None = None) -> None:
        extra = f"\n  {self.excerpt(p)}" if p is not None and self.events(p) else ""
        raise ScenarioFailed(message + extra)

    def check(self, condition: bool, message: str, p: Proc | None = None) -> None:
        if not condition:
            self.fail(message, p)
