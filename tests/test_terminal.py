"""An interactive `ptsandbox run ./joinchat P1` in a real terminal: Ctrl-Z, fg, Ctrl-C."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pexpect
import pytest
from conftest import namespace_supervisors

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("mode", [[], ["--private"]], ids=["namespace", "private"])
def test_ctrl_z_fg_and_ctrl_c_behave_as_in_a_shell(cprog, mode: list[str], tmp_path: Path) -> None:
    runtime = str(tmp_path / "rt")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PS1="PROMPT$ ", PTSANDBOX_RUNTIME_DIR=runtime)
    sh = pexpect.spawn(
        "bash", ["--norc", "--noprofile", "-i"], env=env, encoding="utf-8", timeout=20
    )
    try:
        sh.expect_exact("PROMPT$ ")
        sh.sendline(f"{sys.executable} -m ptsandbox run {' '.join(mode)} {cprog('joinchat')} P1")
        sh.expect_exact("You joined as P1")
        sh.expect_exact("P1> ")
        sh.sendcontrol("z")
        sh.expect("Stopped")
        sh.expect_exact("PROMPT$ ")
        sh.sendline("fg")
        sh.expect("joinchat")
        sh.sendline("still here")  # the client reads it: it is running again
        sh.expect_exact("P1> ")
        started = time.monotonic()
        sh.sendcontrol("c")
        sh.expect_exact("PROMPT$ ")
        assert time.monotonic() - started < 5
        sh.sendline("echo rc=$?")
        sh.expect(r"rc=(\d+)")
        assert sh.match.group(1) == "130"
        sh.sendline(f"{sys.executable} -m ptsandbox stop; exit")
        sh.expect(pexpect.EOF)
    finally:
        sh.close(force=True)
    assert not namespace_supervisors(runtime)
