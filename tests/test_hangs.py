"""No hang: the supervisor returns when its programs end, and no program can freeze it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_children_exiting_at_once_never_leave_run_waiting(cprog) -> None:
    """A child's first stop and exit can be reported before its parent's fork
    event; the late event must not bring the dead child back into the table,
    or `run` waits for it forever. 300 forks make the race near certain; the
    repetitions make a miss of the regression practically impossible."""
    exe = cprog("forkexit")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(4):
        r = subprocess.run(
            [sys.executable, "-m", "ptsandbox", "run", "--private", exe, "3"],
            capture_output=True, text=True, timeout=90, env=env,
        )  # fmt: skip
        assert (r.returncode, r.stdout) == (0, "forked 900\n"), r.stderr


EXPECTED_PTRACE = [
    "traced: yes",
    "attach tracer: -1 EPERM",
    "seize tracer: -1 EPERM",
    "attach parent: -1 EPERM",
    "attach child: -1 EPERM",
    "seize child: -1 EPERM",
    "traceme: -1 EPERM",
    "open: 0",
]


@pytest.mark.parametrize("mode", [["--private"], []], ids=["private", "namespace"])
def test_ptrace_of_the_supervisor_or_a_traced_process_is_refused(
    cprog, mode: list[str], tmp_path: Path
) -> None:
    """As root with no Yama, an attach to the supervisor would stop it while it
    traces the attacher: both would freeze. It gets EPERM, as do an attach to a
    traced process, PTRACE_TRACEME, and (namespace) an attach to the `run` that
    waits for the program; the sandbox goes on serving."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = tmp_path / "out"
    with out.open("w") as f:  # a file, not a pipe: a frozen tracee would hold a pipe open
        r = subprocess.run(
            [sys.executable, "-m", "ptsandbox", "run", *mode, cprog("attachsup")],
            stdout=f, stderr=subprocess.STDOUT, timeout=60, env=env,
        )  # fmt: skip
    assert r.returncode == 0, out.read_text()
    assert out.read_text().splitlines() == EXPECTED_PTRACE
