"""Pushed reads: the chat room puts each message into the member's backing
socket as it is delivered, and read() is the kernel's own (issue 18, item 2).

The rest of the fd-semantics, blocking and signal suites also run with pushed
reads (their `reads` fixture); here is what is particular to them: what piles
up and what status counts, the documented differences (a bad buffer loses the
message, as SOCK_SEQPACKET does), who is asleep, and when reads stay emulated.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ptsandbox import notify
from ptsandbox.api import Proc, Sandbox
from ptsandbox.devices.chatroom import Chatroom
from ptsandbox.vfs import SocketInbox

BACKENDS = [
    "ptrace",
    pytest.param(
        "notify",
        marks=pytest.mark.skipif(
            notify.missing_notify_feature() is not None, reason="no notify backend here"
        ),
    ),
]


def members(sb: Sandbox) -> dict[str, dict]:
    return {m["name"]: m for m in sb.sup.snapshot()["devices"]["chatroom"]["members"]}


def room(backend: str, **config: str) -> Sandbox:
    # trace=False: as `ptsandbox run` runs a program (a recorded run reads emulated)
    return Sandbox([Chatroom(config=config)], backend=backend, trace=False)


def say(sb: Sandbox, w: Proc, lines: list[str]) -> None:
    w.send("".join(f"{x}\n" for x in lines))
    assert sb.serve_until(lambda: members(sb)["W"]["sent"] == len(lines))


@pytest.mark.parametrize("backend", BACKENDS)
def test_messages_pile_up_in_the_readers_socket_and_status_counts_them(backend, cprog) -> None:
    with room(backend, queue_len="3") as sb:
        lazy = sb.spawn([cprog("lazyreader"), "L"])
        lazy.expect("waiting\n")
        w = sb.spawn([cprog("joinchat"), "W"])
        w.expect("You joined as W\n")
        say(sb, w, ["m1", "m2", "m3", "m4"])
        m = members(sb)["L"]
        assert m["reads"] == "pushed"
        # "W joined the room", m1, m2 fill the 3 places; m3 and m4 are dropped
        assert (m["queued"], m["dropped"], m["received"]) == (3, 2, 0)
        assert m["queued_bytes"] == len("W joined the room") + 2 * len("W: m1")
        lazy.send("\n")
        lazy.expect_exact_lines(
            [
                "small read 4 [W jo]",  # the rest of that message is dropped
                "bad pointer read -1 EFAULT",  # and the message with it (SEQPACKET)
                "got [W: m2]",
                "then -1 EAGAIN after 1 messages",
            ]
        )
        assert lazy.wait() == 0
        w.send("Bye!\n")
        assert w.wait() == 0


def test_emulated_reads_keep_a_message_a_bad_buffer_could_not_take(cprog) -> None:
    """The same program with reads=emulated: EFAULT leaves the message queued,
    as the device's read() copies before it takes (the documented difference)."""
    with room("ptrace", queue_len="3", reads="emulated") as sb:
        lazy = sb.spawn([cprog("lazyreader"), "L"])
        lazy.expect("waiting\n")
        w = sb.spawn([cprog("joinchat"), "W"])
        w.expect("You joined as W\n")
        say(sb, w, ["m1", "m2", "m3", "m4"])
        m = members(sb)["L"]
        assert (m["reads"], m["queued"], m["dropped"]) == ("emulated", 3, 2)
        lazy.send("\n")
        lazy.expect_exact_lines(
            [
                "small read 4 [W jo]",
                "bad pointer read -1 EFAULT",
                "got [W: m1]",
                "got [W: m2]",
                "then -1 EAGAIN after 2 messages",
            ]
        )
        assert lazy.wait() == 0
        w.send("Bye!\n")
        assert w.wait() == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reader_asleep_in_the_kernel_is_shown_blocked_and_counted(backend, cprog) -> None:
    with room(backend) as sb:
        r = sb.spawn([cprog("joinchat"), "R"])
        r.expect("You joined as R\n")
        r.wait_blocked()  # its reader thread sleeps in read(), in the kernel
        blocked = sb.sup.snapshot()["blocked"]
        assert [(b["pid"], b["call"], b["waiting_s"]) for b in blocked] == [(r.pid, "read", None)]
        w = sb.spawn([cprog("joinchat"), "W"])
        w.expect("You joined as W\n")
        r.expect("W joined the room\n")
        say(sb, w, ["hello"])
        r.expect("W: hello\n")
        assert sb.serve_until(lambda: members(sb)["R"]["received"] == 2)
        assert members(sb)["R"]["received_bytes"] == len("W joined the room") + len("W: hello")
        for p in (w, r):
            p.send("Bye!\n")
            assert p.wait() == 0


@pytest.mark.parametrize(
    "config",
    [{"full": "block"}, {"full": "drop-oldest"}, {"reads": "emulated"}],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_reads_stay_emulated_where_the_device_must_see_each_read(config, cprog) -> None:
    """block wakes writers when a reader makes room and drop-oldest takes a
    queued message back: both need every read."""
    with room("ptrace", **config) as sb:
        r = sb.spawn([cprog("joinchat"), "R"])
        r.expect("You joined as R\n")
        assert members(sb)["R"]["reads"] == "emulated"
        r.send("Bye!\n")
        assert r.wait() == 0


def test_a_recorded_run_reads_emulated_so_the_trace_has_every_read(cprog) -> None:
    with Sandbox([Chatroom()]) as sb:  # trace=True: a grader's sandbox
        r = sb.spawn([cprog("joinchat"), "R"])
        r.expect("You joined as R\n")
        w = sb.spawn([cprog("joinchat"), "W"])
        w.expect("You joined as W\n")
        r.expect("W joined the room\n")
        assert members(sb)["R"]["reads"] == "emulated"
        reads = [e for e in sb.trace if e.pid == r.pid and e.syscall == "read"]
        assert any(e.result == len("W joined the room") for e in reads)
        for p in (w, r):
            p.send("Bye!\n")
            assert p.wait() == 0


# --------------------------------------------------------------------------
# The inbox itself, on a real socket pair


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    yield ours, theirs
    ours.close()
    theirs.close()


def test_the_inbox_learns_what_was_read_from_the_kernel_alone(pair) -> None:
    ours, theirs = pair
    inbox = SocketInbox(ours)
    for message in (b"a" * 10, b"b" * 300, b"c" * 5000):
        assert inbox.push(message)
    assert (inbox.unread(), inbox.unread_bytes(), inbox.taken) == (3, 5310, 0)
    assert theirs.recv(4) == b"aaaa"  # a short read takes the whole packet
    assert (inbox.unread(), inbox.taken, inbox.taken_bytes) == (2, 1, 10)
    assert inbox.unread_at_most() == 2
    theirs.recv(10000)
    theirs.recv(10000)
    assert (inbox.unread(), inbox.unread_bytes(), inbox.taken_bytes) == (0, 0, 5310)


def test_a_message_bigger_than_a_default_socket_buffer_is_pushed_and_counted(pair) -> None:
    """msg_max goes up to 1 MiB: its truesize is asked on a pair whose buffer
    is as big as the inbox's (a default one refuses ~208 KiB with EMSGSIZE)."""
    ours, theirs = pair
    inbox = SocketInbox(ours)
    big = b"x" * (300 << 10)
    if not inbox.push(big):
        pytest.skip("this host allows no socket buffer that big (SO_SNDBUFFORCE, wmem_max)")
    assert (inbox.unread(), inbox.unread_bytes()) == (1, len(big))
    assert len(theirs.recv(len(big) + 1)) == len(big)
    assert (inbox.unread(), inbox.taken_bytes) == (0, len(big))


def test_the_inbox_says_no_when_the_reader_is_gone(pair) -> None:
    ours, theirs = pair
    inbox = SocketInbox(ours)
    theirs.close()
    assert not inbox.push(b"nobody reads this")
    assert inbox.unread() == 0
