"""The mailbox syscalls: the text's barrier, both modes, receive-from-anyone, signals."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memctx import BUF, MemContext

from ptsandbox.api import Sandbox
from ptsandbox.devices.base import ParamError
from ptsandbox.devices.mailbox import Mailbox


@pytest.mark.parametrize(
    "config",
    [{"mode": "rendezvous"}, {"mode": "queued", "receive": "block"},
     {"mode": "queued", "receive": "zero"}],
    ids=["rendezvous", "queued-block", "queued-zero"],
)  # fmt: skip
@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_barrier_of_five_children_releases_all(cprog, config: dict, static: bool) -> None:
    with Sandbox([Mailbox(config=config)]) as sb:
        p = sb.spawn([cprog("barrier", static=static), "5"])
        assert p.wait(60) == 0, p.output + p.stderr
        arrived = re.findall(r"^\[(\d+)\] arrived, blocking$", p.output, re.M)
        released = re.findall(r"^\[(\d+)\] released$", p.output, re.M)
        assert len(set(arrived)) == 5 and set(arrived) == set(released)
        assert p.lines()[-1] == "barrier done: 5 released"
        # nobody is released before everyone has arrived
        last_arrival = max(p.output.index(f"[{pid}] arrived") for pid in arrived)
        first_release = min(p.output.index(f"[{pid}] released") for pid in released)
        assert last_arrival < first_release


def test_errors_signals_and_receive_from_a_pid(cprog) -> None:
    # rendezvous: the letter of a sender that is killed dies with it, so the
    # later receive from anyone finds nothing and sleeps until the signal
    with Sandbox([Mailbox(config={"mode": "rendezvous"})]) as sb:
        p = sb.spawn([cprog("mailbox_errors")])
        assert p.wait(30) == 0, p.output + p.stderr
        got = dict(line.split(": ", 1) for line in p.lines() if ": " in line)
        assert got == {
            "send_nopid": "-1 ESRCH",
            "receive_bad_ptr": "-1 EFAULT",
            "receive_eintr": "-1 EINTR",
            "receive_from_pid": "5",
            "got": "hello",
        }
        assert "handler" in p.lines()


def test_syscall_numbers_are_parameters_and_shadowing_warns(cprog) -> None:
    dev = Mailbox(config={"mysend_nr": 292, "myreceive_nr": 293})
    assert dev.shadowed() == [(292, "dup3"), (293, "pipe2")]
    with Sandbox([dev]) as sb:
        assert any("dup3" in w for w in sb.sup.warnings)
        old_kernel_barrier = cprog("barrier", defines=("__NR_mysend=292", "__NR_myreceive=293"))
        p = sb.spawn([old_kernel_barrier, "3"])
        assert p.wait(60) == 0 and p.lines()[-1] == "barrier done: 3 released"
    with pytest.raises(ParamError):
        Mailbox(config={"mysend_nr": 400, "myreceive_nr": 400})


def test_old_numbers_tell_pipe2_and_dup3_from_the_mailbox_by_their_arguments(cprog) -> None:
    """292/293 are dup3/pipe2 today: glibc's pipe() must stay pipe2 (a barrier's own
    pipe() was once served as myreceive and deadlocked), mailbox calls stay ours."""
    spec = {"mysend_nr": "292", "myreceive_nr": "293", "mode": "queued"}
    with Sandbox([Mailbox(config=spec)]) as sb:
        p = sb.spawn([cprog("old_numbers")])
        assert p.wait(20) == 0, p.stderr
        assert p.lines() == [
            "pipe 0",
            "pipe write 2",
            "pipe read 2",
            "pipe2 0",
            "dup3 40",
            "mysend 5",
            "myreceive 5",
            "got hello",
            "mysend 0",
            "myreceive 0",
        ]
        assert any("pipe2" in w and "runs as pipe2" in w for w in sb.sup.warnings)


@settings(max_examples=300, deadline=None)
@given(
    pid=st.integers(-(1 << 31), (1 << 22) - 1),
    n=st.integers(-(1 << 31), (1 << 31) - 1),
    buf=st.integers(1, (1 << 47) - 1).filter(lambda b: b != os.O_CLOEXEC),
)
def test_no_mailbox_call_is_taken_for_pipe2_or_dup3(pid: int, n: int, buf: int) -> None:
    """The collision rule is sound: a real pid and a buffer pointer never look
    like pipe2's int[2] or dup3's flags, whatever n is."""
    box = Mailbox(config={"mysend_nr": "292", "myreceive_nr": "293"})
    ctx = MemContext(1, size=1 << 23)  # user memory covers the low 8 MiB: pids' range
    args = (pid & (1 << 64) - 1, n & (1 << 64) - 1, buf)
    assert not box.native_call(293, ctx, args)  # pipe2's number
    assert not box.native_call(292, ctx, args)  # dup3's number


def test_pipe2_and_dup3_arguments_are_the_real_calls() -> None:
    box = Mailbox(config={"mysend_nr": "292", "myreceive_nr": "293"})
    ctx = MemContext(1, size=1 << 23)
    fds = BUF + (1 << 22)  # a writable int[2] above every pid
    assert box.native_call(293, ctx, (fds, 0, 0))
    assert box.native_call(293, ctx, (fds, os.O_CLOEXEC | os.O_NONBLOCK, 0))
    assert not box.native_call(293, ctx, (fds, 0x40, 0))  # not a pipe2 flag
    assert box.native_call(292, ctx, (1, 10, os.O_CLOEXEC))
    assert not box.native_call(292, ctx, (7, 10, 0))  # fd 7 is not open
    # a buffer on a 4 GiB boundary: its low 32 bits are 0, it is still no flags
    assert not box.native_call(292, ctx, (1, 10, 1 << 32))
