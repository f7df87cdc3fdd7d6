"""What a wait(2) status means, decoded in one place.

A program either exited with a status (0..255: `exit(-1)` and `return -1`
from main are 255, an error exit like any other non-zero status) or was
killed by a signal. The shell folds both into one number (`$?` is 128+N for
signal N), which cannot be decoded back: 255 is an exit status, not signal
127. So the status is kept as it came, and only `shell_code` folds it.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass


@dataclass(frozen=True)
class ExitStatus:
    code: int | None  # the exit status (0..255) when it exited
    signal: int | None  # the signal that killed it
    core_dumped: bool = False

    @classmethod
    def from_wait(cls, status: int) -> ExitStatus:
        if os.WIFSIGNALED(status):
            return cls(None, os.WTERMSIG(status), os.WCOREDUMP(status))
        return cls(os.WEXITSTATUS(status), None)

    @property
    def success(self) -> bool:
        return self.code == 0

    @property
    def error_exit(self) -> bool:
        """It exited by itself with a non-zero status (an error it reported)."""
        return self.code is not None and self.code != 0

    @property
    def shell_code(self) -> int:
        """The shell's `$?`: the exit status, or 128+N for signal N."""
        return self.code if self.code is not None else 128 + (self.signal or 0)

    @property
    def signal_name(self) -> str:
        return signal_name(self.signal or 0)

    def __str__(self) -> str:
        if self.code is not None:
            return f"exited with status {self.code}"
        core = " (core dumped)" if self.core_dumped else ""
        return f"was killed by {self.signal_name}{core}"


def signal_name(sig: int) -> str:
    """SIGSEGV for 11; "signal 40" for one without a name (a real-time signal)."""
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


# What a death by these signals usually means, for a report.
SIGNAL_HINTS = {
    signal.SIGSEGV: "an invalid memory access",
    signal.SIGBUS: "an invalid memory access",
    signal.SIGABRT: "abort(), e.g. a failed assert or a corrupted heap",
    signal.SIGFPE: "an arithmetic error, e.g. a division by zero",
    signal.SIGILL: "an illegal instruction",
    signal.SIGXCPU: "its CPU time limit ran out",
    signal.SIGPIPE: "a write to a pipe or socket nobody reads",
}
