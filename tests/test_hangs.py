"""The supervisor returns when its programs end, whatever order their stops come in."""

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
