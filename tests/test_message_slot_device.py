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
