"""message_slot's rules, directly on the device."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memctx import BUF, MemContext

from ptsandbox.devices.base import DeviceError, ParamError
from ptsandbox.devices.message_slot import MessageSlot, iow

TAU_CMD = iow(235, 0, 4)


def opened(dev: MessageSlot, inode: int = 1):
    ctx = MemContext(1)
    return ctx, dev.open(ctx, 0, inode)


def test_tau_holds_many_distinct_channels_and_bounds_them() -> None:
    dev = MessageSlot(config={"profile": "tau", "max_channels": 3})
    ctx, f = opened(dev)
    ctx.mem[:1] = b"x"
    for ch in (1, 2, 2**20 + 2):
        f.ioctl(ctx, TAU_CMD, ch)
        assert f.write(ctx, BUF, 1) == 1
    f.ioctl(ctx, TAU_CMD, 9)
    with pytest.raises(DeviceError) as e:
        f.write(ctx, BUF, 1)
    assert e.value.errno == errno.ENOMEM
    f.ioctl(ctx, TAU_CMD, 2)
    assert f.write(ctx, BUF, 1) == 1  # overwriting an existing channel is fine


@pytest.mark.parametrize(
    "checks, expected",
    [("", errno.EINVAL), ("size,channel,fault", errno.EMSGSIZE)],
)
def test_check_order_is_a_parameter(checks: str, expected: int) -> None:
    """A 0-byte write with no channel: the first check in the order decides."""
    dev = MessageSlot(config={"profile": "tau", "checks": checks})
    ctx, f = opened(dev)
    with pytest.raises(DeviceError) as e:
        f.write(ctx, BUF, 0)
    assert e.value.errno == expected


def test_unknown_check_name_is_refused_at_load() -> None:
    with pytest.raises(ParamError):
        MessageSlot(config={"checks": "channel,bogus"})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.binary(min_size=1, max_size=128)), max_size=30))
def test_tau_reads_return_the_last_write_of_each_channel(writes) -> None:
    dev = MessageSlot(config={"profile": "tau"})
    ctx, f = opened(dev)
    last: dict[int, bytes] = {}
    for ch, data in writes:
        f.ioctl(ctx, TAU_CMD, ch)
        ctx.mem[: len(data)] = data
        assert f.write(ctx, BUF, len(data)) == len(data)
        last[ch] = data
    for ch, data in last.items():
        f.ioctl(ctx, TAU_CMD, ch)
        for _ in range(2):  # reading does not consume
            assert f.read(ctx, BUF, 128) == len(data)
            assert bytes(ctx.mem[: len(data)]) == data


def test_the_set_channel_command_follows_the_course_major() -> None:
    dev = MessageSlot(config={"profile": "tau", "major": "240"})
    ctx, f = opened(dev)
    assert f.ioctl(ctx, iow(240, 0, 4), 5) == 0  # the 2020/2021 header's command
    with pytest.raises(DeviceError) as e:
        f.ioctl(ctx, iow(235, 0, 4), 5)
    assert e.value.errno == errno.EINVAL
    given = MessageSlot(config={"major": "240", "ioctl_cmd": str(iow(235, 0, 8))})
    ctx, f = opened(given)
    assert f.ioctl(ctx, iow(235, 0, 8), 1) == 0  # an explicit command wins


def test_append_mode_adds_to_the_message_and_bounds_it() -> None:
    dev = MessageSlot(config={"profile": "tau", "mode_cmd": "1"})
    ctx, f = opened(dev)
    f.ioctl(ctx, iow(235, 0, 8), 4)
    ctx.mem[:3] = b"abc"
    f.write(ctx, BUF, 3)
    with pytest.raises(DeviceError) as e:
        f.ioctl(ctx, iow(235, 1, 4), 2)
    assert e.value.errno == errno.EINVAL
    f.ioctl(ctx, iow(235, 1, 4), 1)
    assert f.write(ctx, BUF, 3) == 3
    assert f.read(ctx, BUF + 100, 128) == 6
    assert bytes(ctx.mem[100:106]) == b"abcabc"
    with pytest.raises(DeviceError) as e:
        f.write(ctx, BUF, 123)  # 6 + 123 > 128
    assert e.value.errno == errno.EMSGSIZE
    f.ioctl(ctx, iow(235, 1, 4), 0)
    assert f.write(ctx, BUF, 2) == 2 and f.read(ctx, BUF + 100, 128) == 2


def test_censorship_replaces_every_third_byte_per_open_file() -> None:
    dev = MessageSlot(config={"profile": "tau", "major": "235", "censor_cmd": "1"})
    ctx, f = opened(dev)
    f.ioctl(ctx, iow(235, 0, 8), 3)
    f.ioctl(ctx, iow(235, 1, 4), 1)
    ctx.mem[:8] = b"abcdefgh"
    assert f.write(ctx, BUF, 8) == 8
    _, other = opened(dev)
    other.ioctl(ctx, iow(235, 0, 8), 3)
    assert other.read(ctx, BUF + 100, 128) == 8
    assert bytes(ctx.mem[100:108]) == b"ab#de#gh"
    other.write(ctx, BUF, 8)  # not censored: censorship belongs to the open file
    assert f.read(ctx, BUF + 100, 128) == 8 and bytes(ctx.mem[100:108]) == b"abcdefgh"
