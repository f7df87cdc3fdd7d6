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


def _thread_states(exe: str) -> dict[int, str]:
    """tid -> state letter of every thread of the processes running `exe`."""
    states = {}
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or os.readlink(proc / "exe") != exe:
                continue
            for task in (proc / "task").iterdir():
                stat = (task / "stat").read_text()
                states[int(task.name)] = stat[stat.rindex(")") + 2]
        except OSError:
            continue
    return states


@pytest.mark.parametrize("mode", [[], ["--private"]], ids=["namespace", "private"])
def test_ctrl_z_stops_every_thread_before_the_shell_takes_the_terminal(
    cprog, mode: list[str], tmp_path: Path
) -> None:
    """A client whose second thread is stopped for the supervisor again and again
    (tests/c/renamer.c): the terminal's SIGTSTP is most often taken by that
    thread. Once the shell says "Stopped", no thread of the program may still
    run, or one left reading the terminal takes the line typed to the shell
    (it took `fg`, in CI). The shell and the job on one CPU, where a supervisor
    that stopped at once failed three runs in four (ten rounds each)."""
    exe = cprog("renamer")
    runtime = str(tmp_path / "rt")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PS1="PROMPT$ ", PTSANDBOX_RUNTIME_DIR=runtime)
    cpu = min(os.sched_getaffinity(0))
    sh = pexpect.spawn(
        "bash",
        ["--norc", "--noprofile", "-i"],
        env=env,
        encoding="utf-8",
        timeout=20,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    try:
        sh.expect_exact("PROMPT$ ")
        sh.sendline(f"{sys.executable} -m ptsandbox run {' '.join(mode)} {exe} P1")
        sh.expect_exact("P1> ")
        for round_ in range(10):
            sh.sendcontrol("z")
            sh.expect("Stopped")
            sh.expect_exact("PROMPT$ ")
            states = _thread_states(exe)
            assert len(states) == 2, states
            running = {tid: s for tid, s in states.items() if s not in "tT"}
            assert not running, f"round {round_}: threads not stopped: {running}"
            sh.sendline("fg")
            sh.expect("renamer")  # the shell read its line
            sh.sendline(f"round {round_}")
            sh.expect_exact("P1> ")
        sh.sendcontrol("c")
        sh.expect_exact("PROMPT$ ")
        sh.sendline(f"{sys.executable} -m ptsandbox stop; exit")
        sh.expect(pexpect.EOF)
    finally:
        sh.close(force=True)
    assert not namespace_supervisors(runtime)
