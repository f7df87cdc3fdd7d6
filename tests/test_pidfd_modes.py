"""Threads and the device with and without PIDFD_THREAD (Linux < 6.9 has none).

Every test runs twice: with thread pidfds where the kernel has them, and as on
an older kernel (PTSANDBOX_NO_PIDFD_THREAD=1), where a pidfd names a process
and reaches only its leader's fd table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ptsandbox.api import Proc, Sandbox
from ptsandbox.devices.chatroom import Chatroom
from ptsandbox.tracer import NO_PIDFD_THREAD_ENV, has_pidfd_thread

# the same semantics whether the device pushes its messages or reads are emulated
pytestmark = pytest.mark.usefixtures("both_read_paths")


@pytest.fixture(params=["thread-pidfd", "process-pidfd"])
def sb(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    if request.param == "process-pidfd":
        monkeypatch.setenv(NO_PIDFD_THREAD_ENV, "1")
    elif not has_pidfd_thread():
        pytest.skip("this kernel has no PIDFD_THREAD (Linux < 6.9)")
    with Sandbox([Chatroom()]) as sandbox:
        assert sandbox.sup.tracer.pidfd_thread == (request.param == "thread-pidfd")
        yield sandbox


def watcher(sb: Sandbox, cprog) -> Proc:
    w = sb.spawn([cprog("joinchat"), "W"])
    w.expect("You joined as W\n")
    return w


def bye(w: Proc) -> None:
    w.sendline("Bye!")
    w.wait()


def test_a_second_thread_opens_reads_and_closes(sb: Sandbox, cprog) -> None:
    w = watcher(sb, cprog)
    p = sb.spawn([cprog("thropen")])
    p.expect("thread opened\n")
    w.expect_exact_lines(["TO joined the room", "TO: from thread"])
    w.sendline("to the thread")
    p.expect_exact_lines(["got: W: to the thread", "poll after read: 0", "done"])
    assert p.wait() == 0
    w.expect("TO left\n")
    bye(w)


def test_poll_is_not_readable_after_another_thread_drained_the_queue(sb: Sandbox, cprog) -> None:
    w = watcher(sb, cprog)
    p = sb.spawn([cprog("thrdrain")])
    p.expect("joined\n")
    w.expect("TD joined the room\n")
    w.sendline("one")
    w.sendline("two")
    member = lambda: next(  # noqa: E731
        m for m in sb.devices["chatroom"].snapshot()["members"] if m["name"] == "TD"
    )
    assert sb.serve_until(lambda: member()["queued"] == 2)
    p.sendline("go")
    p.expect_exact_lines(["poll before: 1", "drained: W: one", "drained: W: two"])
    p.expect("poll after drain: 0\n")
    assert p.wait() == 0
    bye(w)


def test_a_thread_uses_the_device_after_its_leader_exited(sb: Sandbox, cprog) -> None:
    w = watcher(sb, cprog)
    p = sb.spawn([cprog("leaderexit")])
    p.expect("opened after the leader exited\n")
    w.expect_exact_lines(["LX joined the room", "LX: leader is gone"])
    w.sendline("hello")
    p.expect_exact_lines(["got: W: hello", "poll after read: 0", "done"])
    assert p.wait() == 0
    w.expect("LX left\n")
    bye(w)


def test_a_thread_without_clone_files_has_its_own_device_fd(sb: Sandbox, cprog) -> None:
    w = watcher(sb, cprog)
    p = sb.spawn([cprog("nofiles")])
    p.expect("child opened\n")
    w.expect_exact_lines(["NF joined the room", "NF: own table"])
    w.sendline("hello")
    p.expect_exact_lines(["got: W: hello", "poll after read: 0"])
    p.expect_exact_lines(["main sees the child's fd: -1 EBADF", "done"])
    assert p.wait() == 0
    w.expect("NF left\n")
    bye(w)


def test_a_blocked_read_parks_only_its_thread(sb: Sandbox, cprog) -> None:
    w = watcher(sb, cprog)
    p = sb.spawn([cprog("threads")])
    p.expect_exact_lines([f"main: tick {i}" for i in range(1, 6)] + ["ticks done"])
    w.expect("TH joined the room\n")
    w.sendline("wake up")
    p.expect_exact_lines(["reader: W: wake up", "done"])
    assert p.wait() == 0
    bye(w)


@pytest.mark.parametrize("api", ["poll", "epoll"])
def test_readiness_wakes_on_the_right_fd(sb: Sandbox, cprog, api: str) -> None:
    w = watcher(sb, cprog)
    p = sb.spawn([cprog("pollmix"), api, "3"])
    p.expect("ready\n")
    w.expect("PM joined the room\n")
    w.sendline("to dev")
    p.expect_exact_lines(["ready: dev", "dev: W: to dev"])
    p.sendline("on stdin")
    p.expect_exact_lines(["ready: stdin", "stdin: on stdin"])
    w.sendline("again")
    p.expect_exact_lines(["ready: dev", "dev: W: again"])
    assert p.wait() == 0
    bye(w)
