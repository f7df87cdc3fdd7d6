"""The notify backend: read/write/ioctl on device fds answered from seccomp user
notifications, everything else (and every call that must sleep) on ptrace.

The whole fd-semantics, blocking, signal and terminal suite also runs on it with
PTSANDBOX_BACKEND=notify (`just test-notify`); these tests pin what is its own."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

from ptsandbox import notify
from ptsandbox.api import Sandbox
from ptsandbox.devices.chatroom import Chatroom

# the same semantics whether the device pushes its messages or reads are emulated
pytestmark = pytest.mark.usefixtures("both_read_paths")

needs_notify = pytest.mark.skipif(
    notify.missing_notify_feature() is not None,
    reason=f"this kernel cannot run the notify backend: {notify.missing_notify_feature()}",
)


@pytest.fixture
def nsb():
    with Sandbox([Chatroom()], backend="notify") as sb:
        yield sb


@needs_notify
def test_device_calls_come_as_notifications_not_stops(nsb: Sandbox, cprog) -> None:
    assert nsb.sup.backend == "notify"
    p = nsb.spawn([cprog("nonblock")])
    assert p.wait() == 0
    assert nsb.sup.notifications >= 3  # set-name ioctl, the reads
    assert nsb.stats()["by_syscall"].get("read", 0) >= 1


@needs_notify
@pytest.mark.parametrize("backend", ["notify", "ptrace"])
def test_no_device_call_is_lost_or_done_twice_under_a_signal_storm(cprog, backend: str) -> None:
    with Sandbox([Chatroom(config={"queue_len": 4096})], backend=backend) as sb:
        p = sb.spawn([cprog("sigstorm"), "storm", "3000"])
        assert p.wait(120) == 0, p.stderr
    got = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", p.output)}
    # a write that does not sleep never fails with EINTR in the kernel: a signal
    # that withdrew its notification runs its handler first, then the write
    assert got == {"sent": 3000, "eintr": 0, "received": 3000, "ticks": got["ticks"]}


@needs_notify
@pytest.mark.parametrize("how", ["norestart", "restart"])
def test_a_blocked_read_sleeps_where_signals_reach_it(nsb: Sandbox, cprog, how: str) -> None:
    w = nsb.spawn([cprog("joinchat"), "W"])
    w.expect("You joined as W\n")
    p = nsb.spawn([cprog("sigread"), how])
    p.expect("ready\n")
    p.expect("handler\n")  # alarm(2) came while the read slept
    if how == "norestart":
        p.expect_exact_lines(["read: -1 EINTR", "done"])
    else:
        p.wait_blocked()
        w.sendline("after the signal")
        p.expect_exact_lines(["read: 19 W: after the signal", "done"])
    assert p.wait() == 0
    w.sendline("Bye!")
    w.wait()


@needs_notify
def test_ctrl_c_ends_a_blocked_read_at_once(nsb: Sandbox, cprog) -> None:
    p = nsb.spawn([cprog("sigstorm"), "block"])
    p.expect("ready\n")
    p.wait_blocked()
    p.kill(signal.SIGINT)  # as Ctrl-C would (test_terminal does it on a real shell)
    p.wait(10, close_stdin=False)
    assert p.exit_status is not None and p.exit_status.signal == signal.SIGINT


def test_without_kernel_support_notify_falls_back_to_ptrace(monkeypatch, cprog) -> None:
    monkeypatch.setenv(notify.NOTIFY_PROBE_FAIL_ENV, "1")
    with Sandbox([Chatroom()], backend="notify") as sb:
        assert sb.sup.backend == "ptrace"
        assert any("notify backend unavailable" in w for w in sb.sup.warnings)
        p = sb.spawn([cprog("nonblock")])
        assert p.wait() == 0
        assert sb.sup.notifications == 0


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        Sandbox([Chatroom()], backend="bogus")


def test_cli_takes_the_backend(cprog) -> None:
    cmd = [sys.executable, "-m", "ptsandbox", "run", "--private"]
    ok = subprocess.run([*cmd, "--backend", "notify", cprog("nonblock")], capture_output=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*cmd, "--backend", "bogus", "/bin/true"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "--backend must be one of ptrace, notify" in bad.stderr
