"""/dev/mq with three interactive clients: unicast, broadcast, overflow, every errno."""

from __future__ import annotations

import pytest

from ptsandbox.api import Proc, Sandbox
from ptsandbox.devices.base import ParamError
from ptsandbox.devices.mq import Mq


def ask(p: Proc, line: str, until: str = r"\n") -> list[str]:
    """Type a command; return the lines the client printed for it."""
    start = len(p.output)
    p.sendline(line)
    p.expect(until)
    return p.output[start:].splitlines()


@pytest.fixture(params=[False, True], ids=["dynamic", "static"])
def trio(cprog, request):
    with Sandbox([Mq(config={"QUEUE_LEN": 3, "MAX_DEVICES": 3})]) as sb:
        procs = [sb.spawn([cprog("mq_client", static=request.param)]) for _ in range(3)]
        for p in procs:
            p.expect("mq client ready\n")
        yield sb, procs
        for p in procs:
            if not p.exited:
                p.sendline("/exit")
            p.wait()


def test_unicast_and_broadcast_carry_the_senders_name(trio) -> None:
    _, (a, b, c) = trio
    for p, name in ((a, "alice"), (b, "bob"), (c, "carol")):
        assert ask(p, f"/reg {name}") == ["ok"]
    assert ask(a, "/msg bob hi bob") == ["ok"]
    assert ask(b, "/read") == ["alice: hi bob"]
    assert ask(c, "/all hello all") == ["ok"]
    assert ask(a, "/read") == ["carol: hello all"]
    assert ask(b, "/read") == ["carol: hello all"]
    assert ask(c, "/read") == ["(no messages)"]  # a broadcast skips its sender


def test_full_queue_overwrites_the_oldest_and_counts_it(trio) -> None:
    sb, (a, b, _) = trio
    ask(a, "/reg alice")
    ask(b, "/reg bob")
    for i in range(5):
        assert ask(a, f"/msg bob m{i}") == ["ok"]
    assert ask(b, "/readall", r"\(no messages\)\n") == [
        "alice: m2",
        "alice: m3",
        "alice: m4",
        "(no messages)",
    ]
    snap = sb.devices["mq"].snapshot()
    assert snap["overwritten"] == 2
    assert {r["name"]: r["overwritten"] for r in snap["registered"]}["bob"] == 2


def test_every_errno(trio) -> None:
    _, (a, b, c) = trio
    assert ask(a, "/read") == ["read error: ENOENT (No such file or directory)"]
    assert ask(a, "/msg bob hi") == ["error: EACCES (Permission denied)"]
    assert ask(a, "/all hi") == ["error: EACCES (Permission denied)"]
    assert ask(a, "/unr") == ["error: ENOENT (No such file or directory)"]
    assert ask(a, "/reg alice") == ["ok"]
    assert ask(a, "/reg again") == ["error: EEXIST (File exists)"]  # caller registered
    assert ask(b, "/reg alice") == ["error: EEXIST (File exists)"]  # name taken
    assert ask(b, "/reg toolongname") == ["error: EINVAL (Invalid argument)"]
    assert ask(a, "/msg") == ["error: EINVAL (Invalid argument)"]
    assert ask(a, "/msg alice") == ["error: EINVAL (Invalid argument)"]
    assert ask(a, "/msg nobody hi") == ["error: ENOENT (No such file or directory)"]
    assert ask(a, "/dance") == ["error: EINVAL (Invalid argument)"]
    assert ask(a, "/read") == ["(no messages)"]  # EAGAIN
    assert ask(b, "/reg bob") == ["ok"]
    assert ask(c, "/reg carol") == ["ok"]
    assert ask(a, "/unr") == ["ok"]
    assert ask(a, "/reg dave") == ["ok"]  # a name is free again after /unr


def test_table_full_is_enomem(cprog) -> None:
    with Sandbox([Mq(config={"MAX_DEVICES": 1})]) as sb:
        a, b = sb.spawn([cprog("mq_client")]), sb.spawn([cprog("mq_client")])
        for p in (a, b):
            p.expect("mq client ready\n")
        assert ask(a, "/reg one") == ["ok"]
        assert ask(b, "/reg two") == ["error: ENOMEM (Cannot allocate memory)"]
        for p in (a, b):
            p.sendline("/exit")
            p.wait()


def test_callers_are_threads_unless_keyed_by_pid(cprog) -> None:
    with Sandbox([Mq()]) as sb:
        p = sb.spawn([cprog("mq_threads")])
        assert p.wait() == 0
        got = dict(line.split(": ", 1) for line in p.lines() if ": " in line)
        # both threads registered: write returns the command's length
        assert got["main_reg"] == "9" and got["thread_reg"] == "8"
        assert got["main_got"] == "THR: from-thread"
    with Sandbox([Mq(config={"key": "pid"})]) as sb:
        p = sb.spawn([cprog("mq_threads")])
        p.wait()
        got = dict(line.split(": ", 1) for line in p.lines() if ": " in line)
        assert got["thread_reg"] == "-1 EEXIST"  # one registration per process


def test_a_process_that_ends_is_unregistered(trio) -> None:
    sb, (a, b, _) = trio
    ask(a, "/reg alice")
    a.sendline("/exit")
    a.wait()
    assert sb.serve_until(lambda: sb.devices["mq"].snapshot()["registered"] == [])
    ask(b, "/reg bob")
    assert ask(b, "/msg alice hi") == ["error: ENOENT (No such file or directory)"]


@pytest.mark.parametrize(
    "param, bad, good",
    [("MAX_DEVICES", (0, 21), (1, 20)), ("QUEUE_LEN", (2, 21), (3, 20)),
     ("CMD_BUF_SIZE", (15, 4097), (16, 4096))],
)  # fmt: skip
def test_parameter_bounds_are_enforced_at_load(param: str, bad, good) -> None:
    for value in bad:
        with pytest.raises(ParamError):
            Mq(config={param: value})
    for value in good:
        assert Mq(config={param: value})[param] == value


def test_command_longer_than_the_buffer_is_einval(cprog) -> None:
    with Sandbox([Mq(config={"CMD_BUF_SIZE": 16})]) as sb:
        p = sb.spawn([cprog("mq_client")])
        p.expect("mq client ready\n")
        assert ask(p, "/reg x") == ["ok"]
        assert ask(p, "/all " + "y" * 20) == ["error: EINVAL (Invalid argument)"]
        p.sendline("/exit")
        p.wait()


def test_poll_and_blocking_read_beyond_the_original(cprog) -> None:
    """With blocking=1 a read sleeps until a message arrives."""
    with Sandbox([Mq(config={"blocking": True})]) as sb:
        a, b = sb.spawn([cprog("mq_client")]), sb.spawn([cprog("mq_client")])
        for p in (a, b):
            p.expect("mq client ready\n")
        ask(a, "/reg alice")
        ask(b, "/reg bob")
        b.sendline("/read")
        b.wait_blocked()
        assert ask(a, "/msg bob wake up") == ["ok"]
        b.expect("alice: wake up\n")
        for p in (a, b):
            p.sendline("/exit")
            p.wait()
