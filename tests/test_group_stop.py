"""Job control: a SIGSTOP stops every thread of a program, also one being born."""

from __future__ import annotations

import os
import signal

import pytest

from ptsandbox.api import Proc, Sandbox
from ptsandbox.devices.chatroom import Chatroom

# the same semantics whether the device pushes its messages or reads are emulated
pytestmark = pytest.mark.usefixtures("both_read_paths")

READERS = 48  # tests/c/stopspawn.c


def tasks(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return []


def every_task_group_stopped(sb: Sandbox, pid: int) -> bool:
    """Every thread the kernel lists for `pid` is in a job-control stop for the tracer."""
    threads = sb.sup.tracer.threads
    return all(tid in threads and threads[tid].group_stopped for tid in tasks(pid))


def stop_and_continue_while_it_starts(sb: Sandbox, p: Proc) -> int:
    """SIGSTOP the client again and again while it creates its threads; each time,
    every thread must stop. Returns how many stops were made."""
    stops = 0
    while "all started" not in p.output:
        born = len(tasks(p.pid))
        p.kill(signal.SIGSTOP)
        stops += 1
        assert sb.serve_until(lambda: every_task_group_stopped(sb, p.pid), 30), (
            f"stop {stops}: a thread of the stopped client runs on"
        )
        p.kill(signal.SIGCONT)
        # go on once it has made progress: a thread more, or done creating
        sb.serve_until(lambda n=born: len(tasks(p.pid)) > n or "all started" in p.output)
        p.drain()
    return stops


def test_sigstop_while_threads_are_born_stops_all_of_them(cprog) -> None:
    """A thread whose first stop is already the group-stop (born while SIGSTOP was
    being delivered) must stay stopped with its siblings, not run on; SIGCONT then
    continues every thread. Each client creates its reader threads one after
    another just after joining, while the test stops and continues it."""
    with Sandbox([Chatroom(config={"queue_len": 64})]) as sb:
        w = sb.spawn([cprog("joinchat"), "W"])
        w.expect("You joined as W\n")
        for _ in range(8):
            p = sb.spawn([cprog("stopspawn")])
            p.expect("joined\n")
            stop_and_continue_while_it_starts(sb, p)
            w.expect("SS joined the room\n")
            w.send("".join(f"m{i}\n" for i in range(READERS)))
            p.expect("done\n")
            assert p.wait() == 0
            got = sorted(line for line in p.lines() if line.startswith("reader: "))
            assert got == sorted(f"reader: W: m{i}" for i in range(READERS))
            w.expect("SS left\n")
        w.sendline("Bye!")
        w.wait()
