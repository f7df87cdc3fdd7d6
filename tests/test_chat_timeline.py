"""The assignment's chat: joins, messages to every other member, notices, Bye!."""

from __future__ import annotations

import signal

import pytest

from ptsandbox.api import Sandbox
from ptsandbox.devices.chatroom import Chatroom

# the same semantics whether the device pushes its messages or reads are emulated
pytestmark = pytest.mark.usefixtures("both_read_paths")


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_seed_timeline_holds(sandbox: Sandbox, cprog, static: bool) -> None:
    joinchat = cprog("joinchat", static=static)
    sandbox.stdio = "pipe"  # the seed's lines exactly: joinchat prompts "P1> " on a terminal
    p1 = sandbox.spawn([joinchat, "P1"])
    p1.expect("You joined as P1\n")
    p2 = sandbox.spawn([joinchat, "P2"])
    p2.expect("You joined as P2\n")
    p1.expect("P2 joined the room\n")
    p1.sendline("Hello P2!")
    p2.expect("P1: Hello P2!\n")
    p2.sendline("Hello back to you P1!")
    p1.expect("P2: Hello back to you P1!\n")
    p3 = sandbox.spawn([joinchat, "P3"])
    p3.expect("You joined as P3\n")
    p1.expect("P3 joined the room\n")
    p2.expect("P3 joined the room\n")
    p3.sendline("Anyone here?")
    p1.expect(r"P3: Anyone here\?\n")
    p2.expect(r"P3: Anyone here\?\n")
    p1.sendline("Hello P3, I am here!")
    p2.sendline("Hey P3, P2 here!")
    # concurrent senders: P3 may get them in either order (the seed says so)
    p3.expect_all(["P1: Hello P3, I am here!\n", "P2: Hey P3, P2 here!\n"])
    p2.expect("P1: Hello P3, I am here!\n")
    p1.expect("P2: Hey P3, P2 here!\n")
    p1.sendline("Bye!")
    assert p1.wait() == 0
    p2.expect("P1 left\n")
    p3.expect("P1 left\n")
    p2.sendline("Bye!")
    p3.sendline("Bye!")
    assert p2.wait() == 0 and p3.wait() == 0
    # a sender never sees its own message; late joiners see no history
    assert "P1: Hello P2!" not in p1.output
    assert "P1: Hello P2!" not in p3.output
    assert p3.lines()[:2] == ["You joined as P3", "P1: Hello P3, I am here!"] or p3.lines()[:2] == [
        "You joined as P3",
        "P2: Hey P3, P2 here!",
    ]


def test_client_without_ioctl_is_named_by_pid(sandbox: Sandbox, cprog) -> None:
    p1 = sandbox.spawn([cprog("joinchat"), "P1"])
    p1.expect("You joined as P1\n")
    anon = sandbox.spawn([cprog("joinchat_pid")])
    anon.expect(f"You joined as {anon.pid}\n")
    p1.expect(f"{anon.pid} joined the room\n")
    anon.sendline("hi")
    p1.expect(f"{anon.pid}: hi\n")
    anon.sendline("Bye!")
    anon.wait()
    p1.expect(f"{anon.pid} left\n")
    p1.sendline("Bye!")
    p1.wait()


def test_killed_blocked_member_leaves_exactly_once(sandbox: Sandbox, cprog) -> None:
    joinchat = cprog("joinchat")
    watcher = sandbox.spawn([joinchat, "W"])
    watcher.expect("You joined as W\n")
    victim = sandbox.spawn([joinchat, "V"])
    victim.expect("You joined as V\n")
    watcher.expect("V joined the room\n")
    victim.wait_blocked()  # its reader thread sleeps in read()
    victim.kill(signal.SIGKILL)
    assert victim.wait() == 128 + signal.SIGKILL
    watcher.expect("V left\n")
    # a message sent after the leave arrives after it, and no second notice comes
    other = sandbox.spawn([joinchat, "O"])
    other.expect("You joined as O\n")
    other.sendline("after")
    watcher.expect("O: after\n")
    assert watcher.output.count("V left") == 1
    for p in (watcher, other):
        p.sendline("Bye!")
        p.wait()


def _start_members(sb: Sandbox, joinchat: str, names: list[str]) -> dict:
    procs = {}
    for n in names:
        procs[n] = sb.spawn([joinchat, n])
        procs[n].expect(f"You joined as {n}\n")
    # everyone has seen everyone join: all are members before anyone talks
    for i, n in enumerate(names):
        for later in names[i + 1 :]:
            procs[n].expect(f"{later} joined the room\n")
    return procs


def test_messages_never_mix_or_get_lost_with_blocking_writers(cprog) -> None:
    """Three members each send 150 lines at once with full=block: every receiver
    gets every line whole, and each sender's lines in the order sent."""
    count = 150
    names = ["A", "B", "C"]
    with Sandbox([Chatroom(config={"queue_len": 8, "full": "block"})], stdio="pipe") as sb:
        procs = _start_members(sb, cprog("joinchat"), names)
        for n, p in procs.items():
            p.send("".join(f"{n} says line {i:04d} " + "x" * 40 + "\n" for i in range(count)))
        for n, p in procs.items():
            last = [f"{o}: {o} says line {count - 1:04d} " for o in names if o != n]
            p.expect_all(last, timeout=60)
        for n, p in procs.items():
            for other in names:
                if other == n:
                    continue
                got = [line for line in p.lines() if line.startswith(f"{other}: ")]
                assert got == [
                    f"{other}: {other} says line {i:04d} " + "x" * 40 for i in range(count)
                ]
        assert sb.devices["chatroom"].snapshot()["dropped"] == 0
        for p in procs.values():
            p.sendline("Bye!")
            p.wait()


def test_full_queue_drops_are_counted(cprog) -> None:
    """A member that never reads: with drop-newest, what does not fit is counted."""
    with Sandbox([Chatroom(config={"queue_len": 4})], stdio="pipe") as sb:
        procs = _start_members(sb, cprog("joinchat"), ["A", "B"])
        # B's reader keeps draining, so stop it first: SIGSTOP the whole client
        procs["B"].kill(signal.SIGSTOP)
        procs["B"].wait_stopped()
        procs["A"].send("".join(f"m{i}\n" for i in range(10)))
        sb.serve_until(lambda: sb.devices["chatroom"].snapshot()["messages"] >= 12)
        members = {m["name"]: m for m in sb.devices["chatroom"].snapshot()["members"]}
        assert members["B"]["queued"] == 4
        assert members["B"]["dropped"] == 6
        procs["B"].kill(signal.SIGCONT)
        procs["B"].expect_exact_lines(["A: m0", "A: m1", "A: m2", "A: m3"])
        for p in procs.values():
            p.sendline("Bye!")
            p.wait()
