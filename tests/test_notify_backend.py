"""The notify backend: read/write/ioctl on device fds answered from seccomp user
notifications, everything else (and every call that must sleep) on ptrace.

The whole fd-semantics, blocking, signal and terminal suite also runs on it with
PTSANDBOX_BACKEND=notify (`just test-notify`); these tests pin what is its own."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

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


def _kernel_at_least(major: int, minor: int) -> bool:
    found = re.match(r"(\d+)\.(\d+)", os.uname().release)
    assert found
    return (int(found[1]), int(found[2])) >= (major, minor)


def _listener_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("listener-")]


@needs_notify
@pytest.mark.skipif(not _kernel_at_least(6, 6), reason="sync wake-up is Linux 6.6")
def test_a_listener_has_sync_wake_up_and_a_thread_of_its_own_while_its_program_runs(
    nsb: Sandbox, cprog
) -> None:
    p = nsb.spawn([cprog("joinchat"), "P1"])
    p.expect("P1> ")
    listeners = list(nsb.sup.listeners.values())
    assert len(listeners) == 1
    # SECCOMP_IOCTL_NOTIF_SET_FLAGS takes its flags by value (a pointer was refused)
    assert listeners[0].sync_wake_up
    assert [t.name for t in _listener_threads()] == [f"listener-{listeners[0].fd}"]
    p.sendline("Bye!")
    assert p.wait() == 0
    # its filter is gone with the program: the thread ends and the listener is closed
    assert nsb.serve_until(lambda: not nsb.sup.listeners, timeout=10)
    assert not _listener_threads()


@needs_notify
@pytest.mark.skipif(not _kernel_at_least(6, 6), reason="sync wake-up is Linux 6.6")
def test_a_call_served_by_a_listener_thread_ends_a_wait_on_device_state(cprog) -> None:
    """The loop sleeps in select() while a listener thread serves; a caller waiting
    on what the device holds must hear of each served call, not at `every`. (No
    trace records here: their output capture wakes the loop by itself.)"""
    with Sandbox([Chatroom()], backend="notify", trace=False) as sb:
        p = sb.spawn([cprog("joinchat"), "P1"], stdio="pipe")  # no prompt after a line
        p.expect("You joined as P1\n")
        room = sb.devices["chatroom"]
        started = time.monotonic()
        p.sendline("hello")  # a write: only the listener thread sees it; no output follows
        assert sb.serve_until(lambda: room.snapshot()["members"][0]["sent"] == 1, 20, every=30)
        assert time.monotonic() - started < 10
        p.sendline("Bye!")
        assert p.wait() == 0


@needs_notify
def test_no_listener_thread_outlives_its_sandbox(cprog) -> None:
    with Sandbox([Chatroom()], backend="notify") as sb:
        for name in ("A", "B", "C"):
            sb.spawn([cprog("joinchat"), name]).expect(f"{name}> ")
    assert not _listener_threads()


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
