"""Clients run on a pseudo-terminal, as the student ran them (or on pipes, if asked)."""

from __future__ import annotations

import contextlib
import os
import re
import signal

import pytest

from ptsandbox.api import ExpectTimeout, Sandbox
from ptsandbox.exitstatus import ExitStatus


def _fds() -> dict[str, str]:
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own fd is gone
            out[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return out


def test_plain_printf_shows_at_once_on_the_terminal(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("terminal_echo")])
    p.expect("tty 1 1 0\n")  # stdin and stdout are the terminal, stderr a pipe of its own
    p.sendline("hello")
    p.expect("read 6: hello\n")  # while it runs: line-buffered, one line per read
    assert "\r" not in p.output  # the terminal's "\r\n" is shown as "\n"


def test_on_pipes_the_same_printf_is_held_back_until_exit(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("terminal_echo")], stdio="pipe")
    p.sendline("hello")
    # fully buffered: nothing can show before it exits (not a race: before exit,
    # no byte of stdout leaves the program's buffer)
    with pytest.raises(ExpectTimeout):
        p.expect("tty", timeout=0.5)
    assert p.wait() == 0
    assert p.output.startswith("tty 0 0 0\nread 6: hello\n")


def test_echo_is_off_and_input_larger_than_the_terminal_buffer_arrives_whole(
    sandbox: Sandbox, cprog
) -> None:
    p = sandbox.spawn([cprog("terminal_echo")])
    lines = [f"line {i:04d} " + "x" * 60 for i in range(400)]  # 28 KB, the tty buffers 4 KB
    p.send("".join(line + "\n" for line in lines))
    assert p.wait() == 0
    got = [line.split(": ", 1)[1] for line in p.lines() if line.startswith("read ")]
    assert got == lines  # each read() got one line, none was echoed back into stdout
    assert p.lines()[-1] == "end after 400 reads"


def test_end_of_input_after_a_partial_line(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("terminal_echo")])
    p.send("no newline")
    p.close_stdin()  # ^D twice, as a person types it after a partial line
    assert p.wait() == 0
    assert "read 10: no newline\nend after 1 reads\n" in p.output


def test_exit_minus_one_is_status_255_not_a_signal(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("terminal_echo")])
    p.sendline("crash")
    assert p.wait() == 255
    assert p.exit_status == ExitStatus(255, None)
    assert p.exit_status.error_exit and str(p.exit_status) == "exited with status 255"


def test_a_death_by_signal_is_named(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("segv")])
    assert p.wait() == 128 + signal.SIGSEGV  # the shell's $?
    status = p.exit_status
    assert status is not None and status.signal == signal.SIGSEGV and status.code is None
    assert not status.error_exit and str(status).startswith("was killed by SIGSEGV")
    [death] = [e for e in sandbox.exits if e.pid == p.pid]
    assert death.status == status


def test_the_terminal_is_closed_with_the_sandbox(cprog) -> None:
    before = _fds()
    with Sandbox() as sb:
        p = sb.spawn([cprog("terminal_echo")])
        p.expect("tty 1 1 0")
        assert any(t in ("/dev/ptmx",) or t.startswith("/dev/pts/") for t in _fds().values())
        pid = p.pid
    assert _fds() == before  # no terminal (nor pipe) of it is left open here
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_trace_is_the_same_on_a_terminal_and_on_pipes(cprog) -> None:
    traces = []
    for stdio in ("pty", "pipe"):
        with Sandbox(stdio=stdio) as sb:
            p = sb.spawn([cprog("mq_client")])  # one thread: the same calls every run
            p.expect("mq client ready\n")
            for line, answer in (("/reg alice", "ok"), ("/msg alice hi", "ok"), ("/read", "hi")):
                p.sendline(line)
                p.expect(answer + "\n")
            p.sendline("/exit")
            assert p.wait() == 0
            # pointers differ from run to run (ASLR); the calls and their values do not
            traces.append([(e.syscall, re.sub(r"0x7f\w+", "PTR", e.args)) for e in sb.trace])
    assert traces[0] == traces[1] and len(traces[0]) >= 5


@pytest.mark.parametrize(
    "status, decoded, text",
    [
        (0, ExitStatus(0, None), "exited with status 0"),
        (255 << 8, ExitStatus(255, None), "exited with status 255"),  # exit(-1)
        (1 << 8, ExitStatus(1, None), "exited with status 1"),
        (signal.SIGSEGV, ExitStatus(None, signal.SIGSEGV), "was killed by SIGSEGV"),
        (
            signal.SIGABRT | 0x80,
            ExitStatus(None, signal.SIGABRT, True),
            "was killed by SIGABRT (core dumped)",
        ),
        (40, ExitStatus(None, 40), "was killed by signal 40"),  # a real-time signal
    ],
)
def test_wait_statuses_decode_once(status: int, decoded: ExitStatus, text: str) -> None:
    got = ExitStatus.from_wait(status)
    assert got == decoded and str(got) == text
    assert got.error_exit == (got.code not in (None, 0))
    assert got.shell_code == (got.code if got.code is not None else 128 + (got.signal or 0))
