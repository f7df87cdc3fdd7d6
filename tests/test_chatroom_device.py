"""The chat room device on its own: no tracer, a context over a bytearray."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memctx import BUF, MemContext

from ptsandbox.devices.base import POLLIN, Block, DeviceError, WaitQueue
from ptsandbox.devices.chatroom import CHATROOM_IOC_SET_NAME, Chatroom, ChatroomFile


class Client:
    def __init__(self, room: Chatroom, pid: int, name: str | None = None) -> None:
        self.ctx = MemContext(pid)
        self.file = room.open(self.ctx, 0, 1)
        assert isinstance(self.file, ChatroomFile)
        if name:
            self.ctx.mem[: len(name) + 1] = name.encode() + b"\0"
            assert self.file.ioctl(self.ctx, CHATROOM_IOC_SET_NAME, BUF) == 0

    def say(self, text: str) -> int:
        self.ctx.mem[: len(text)] = text.encode()
        return self.file.write(self.ctx, BUF, len(text))

    def hear(self, size: int = 1024) -> str:
        n = self.file.read(self.ctx, BUF, size)
        return self.ctx.mem[:n].decode()

    def drain(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.hear())
            except Block:
                return out


def test_write_reaches_every_other_member_not_the_sender() -> None:
    room = Chatroom()
    a, b, c = Client(room, 1, "A"), Client(room, 2, "B"), Client(room, 3, "C")
    assert a.say("hi") == 2
    assert a.drain() == ["B joined the room", "C joined the room"]
    assert b.drain() == ["C joined the room", "A: hi"]
    assert c.drain() == ["A: hi"]


def test_read_of_empty_fifo_blocks_on_the_members_queue() -> None:
    room = Chatroom()
    a = Client(room, 1, "A")
    with pytest.raises(Block) as blocked:
        a.hear()
    assert blocked.value.queue is a.file.member.arrivals


def test_short_buffer_gets_the_head_and_the_rest_is_discarded() -> None:
    room = Chatroom()
    a, b = Client(room, 1, "A"), Client(room, 2, "B")
    a.drain()
    b.say("0123456789")
    b.say("next")
    assert a.hear(5) == "B: 01"
    assert a.hear() == "B: next"


def test_bad_buffer_is_efault_and_keeps_the_message() -> None:
    room = Chatroom()
    a, b = Client(room, 1, "A"), Client(room, 2, "B")
    a.drain()
    b.say("kept")
    with pytest.raises(DeviceError) as e:
        a.file.read(a.ctx, 16, 100)
    assert e.value.errno == errno.EFAULT
    assert a.hear() == "B: kept"


def test_oversized_write_is_emsgsize_and_empty_write_sends_nothing() -> None:
    room = Chatroom(config={"msg_max": 8})
    a, b = Client(room, 1, "A"), Client(room, 2, "B")
    a.drain()
    with pytest.raises(DeviceError) as e:
        b.say("123456789")
    assert e.value.errno == errno.EMSGSIZE
    assert b.say("") == 0
    assert a.drain() == []


@pytest.mark.parametrize(
    "name, code",
    [(b"", errno.EINVAL), (b"x" * 40, errno.EINVAL)],
)
def test_bad_names_are_refused(name: bytes, code: int) -> None:
    room = Chatroom()
    a = Client(room, 1)
    a.ctx.mem[: len(name) + 1] = name + b"\0"
    with pytest.raises(DeviceError) as e:
        a.file.ioctl(a.ctx, CHATROOM_IOC_SET_NAME, BUF)
    assert e.value.errno == code


def test_unknown_ioctl_is_enotty() -> None:
    a = Client(Chatroom(), 1)
    with pytest.raises(DeviceError) as e:
        a.file.ioctl(a.ctx, 0x1234, 0)
    assert e.value.errno == errno.ENOTTY


def test_default_name_is_the_pid_and_release_announces_leave() -> None:
    room = Chatroom()
    a, b = Client(room, 1, "A"), Client(room, 4242)
    b.say("x")  # the first operation announces the pid-named member
    b.file.release()
    assert a.drain() == ["4242 joined the room", "4242: x", "4242 left"]
    assert [m["name"] for m in room.snapshot()["members"]] == ["A"]


def test_leave_notice_goes_to_the_others() -> None:
    room = Chatroom()
    a, b = Client(room, 1, "A"), Client(room, 2, "B")
    a.drain()
    b.file.release()
    assert a.drain() == ["B left"]
    assert [m["name"] for m in room.snapshot()["members"]] == ["A"]


def test_poll_reports_pollin_only_with_a_message() -> None:
    room = Chatroom()
    a, b = Client(room, 1, "A"), Client(room, 2, "B")

    class Table:
        queues: list[WaitQueue] = []

        def wait(self, q: WaitQueue) -> None:
            self.queues.append(q)

    a.drain()
    assert not a.file.poll(Table()) & POLLIN
    b.say("x")
    assert a.file.poll(Table()) & POLLIN


@pytest.mark.parametrize("policy", ["drop-newest", "drop-oldest"])
def test_full_fifo_drops_are_counted(policy: str) -> None:
    room = Chatroom(config={"queue_len": 3, "full": policy})
    a, b = Client(room, 1, "A"), Client(room, 2, "B")
    a.drain()
    for i in range(5):
        b.say(f"m{i}")
    got = a.drain()
    assert got == (
        ["B: m0", "B: m1", "B: m2"] if policy == "drop-newest" else ["B: m2", "B: m3", "B: m4"]
    )
    assert room.snapshot()["members"][0]["dropped"] == 2
    assert room.snapshot()["dropped"] == 2


def test_block_policy_makes_the_writer_wait_for_room() -> None:
    room = Chatroom(config={"queue_len": 2, "full": "block"})
    a, b = Client(room, 1, "A"), Client(room, 2, "B")
    a.drain()
    b.say("1")
    b.say("2")
    with pytest.raises(Block) as blocked:
        b.say("3")
    assert blocked.value.queue is room.space
    a.hear()
    assert b.say("3") == 1
    assert a.drain() == ["B: 2", "B: 3"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.text(alphabet="abcxyz ", min_size=1, max_size=12)),
        max_size=40,
    )
)
def test_any_interleaving_delivers_each_senders_messages_in_order(
    script: list[tuple[int, str]],
) -> None:
    """Without overflow, every member receives exactly the others' messages,
    each sender's in the order sent."""
    room = Chatroom(config={"queue_len": 100})
    clients = [Client(room, i + 1, f"P{i}") for i in range(4)]
    for c in clients:
        c.drain()
    for who, text in script:
        clients[who].say(text)
    for i, c in enumerate(clients):
        got = c.drain()
        expected = [f"P{w}: {t}" for w, t in script if w != i]
        assert got == expected
