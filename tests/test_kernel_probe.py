"""A kernel lacking a feature the supervisor needs: one line naming it, not a later failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SLOWDOWN

from ptsandbox import tracer

ROOT = Path(__file__).resolve().parent.parent


def test_this_kernel_has_every_feature() -> None:
    assert tracer._probe() is None


@pytest.mark.parametrize(
    ("feature", "mode"),
    [("pidfd_getfd", ["--private"]), ("get_syscall_info", ["--private"]), ("seccomp_trace", [])],
    ids=["pidfd_getfd-private", "get_syscall_info-private", "seccomp_trace-namespace"],
)
def test_a_missing_feature_is_one_line_and_a_failure(
    feature: str, mode: list[str], tmp_path: Path
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PTSANDBOX_RUNTIME_DIR=str(tmp_path))
    env[tracer.PROBE_FAIL_ENV] = feature  # the probe reports it missing
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "run", *mode, "true"],
        capture_output=True, text=True, timeout=60 * SLOWDOWN, env=env,
    )  # fmt: skip
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert tracer.FEATURES[feature] in r.stderr
    assert f"needs Linux {tracer.MIN_KERNEL} or later" in r.stderr
