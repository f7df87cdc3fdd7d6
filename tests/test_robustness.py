"""The supervisor is never wedged by what a tracee does."""

from __future__ import annotations

import signal

from ptsandbox.api import Sandbox


def test_bad_pointers_give_efault_and_unknown_ioctl_enotty(sandbox: Sandbox, cprog) -> None:
    w = sandbox.spawn([cprog("joinchat"), "W"])
    w.expect("You joined as W\n")
    p = sandbox.spawn([cprog("badptr")])
    p.expect("ready\n")
    w.expect("BP joined the room\n")
    w.sendline("first")
    w.sendline("second")
    sandbox.serve_until(lambda: sandbox.devices["chatroom"].snapshot()["messages"] >= 4)
    p.sendline("go")
    assert p.wait() == 0
    assert p.lines()[1:] == [
        "read_unmapped: -1 EFAULT",
        "read_readonly_dst: -1 EFAULT",
        "write_unmapped: -1 EFAULT",
        "write_readonly_src: 2",
        "ioctl_unknown: -1 ENOTTY",
        "ioctl_name_unmapped: -1 EFAULT",
        "done",
    ]
    w.expect("BP: ok\n")
    w.sendline("Bye!")
    w.wait()


def test_a_segfaulting_client_leaves_and_the_others_go_on(sandbox: Sandbox, cprog) -> None:
    w = sandbox.spawn([cprog("joinchat"), "W"])
    w.expect("You joined as W\n")
    crash = sandbox.spawn([cprog("segv")])
    crash.expect("ready\n")
    assert crash.wait() == 128 + signal.SIGSEGV
    w.expect("SG left\n")
    other = sandbox.spawn([cprog("joinchat"), "O"])
    other.expect("You joined as O\n")
    other.sendline("still served")
    w.expect("O: still served\n")
    for p in (w, other):
        p.sendline("Bye!")
        p.wait()


def test_two_hundred_forked_children_are_all_served(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("forkmany"), "200"])
    assert p.wait(timeout=60) == 0
    assert "reaped: 200" in p.lines()
    assert sandbox.devices["chatroom"].snapshot()["members"] == []
    assert sandbox.sup.vfs.files == {}


def test_unrelated_syscalls_cost_a_handful_of_stops(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("storm"), "50000"])  # 50k getppid + 50k write to /dev/null
    assert p.wait() == 0
    stops = sandbox.stats()["stops"]
    assert stops < 20, sandbox.stats()


def test_i386_and_x32_syscalls_are_refused_with_enosys(sandbox: Sandbox, cprog) -> None:
    """The filter refuses them itself: none slips past, none reaches the kernel."""
    p = sandbox.spawn([cprog("int80")])
    assert p.wait() == 0
    assert p.lines() == ["int80: -38", "x32: -1 ENOSYS", "done"]
