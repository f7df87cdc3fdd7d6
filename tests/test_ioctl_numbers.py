"""The _IO* helpers build the numbers a course's C header does; traces decode them."""

from __future__ import annotations

import ctypes

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ptsandbox.devices.base import IO, IOR, IOW, IOWR
from ptsandbox.devices.chatroom import CHATROOM_IOC_SET_NAME
from ptsandbox.devices.ioctl import decode, ioc_dir, ioc_nr, ioc_size, ioc_type, macro


def test_the_numbers_of_the_course_headers() -> None:
    assert IOW("k", 1, 32) == CHATROOM_IOC_SET_NAME == 0x40206B01  # cprogs/chatroom.h
    assert IOW(235, 0, ctypes.c_ulong) == 0x4008EB00  # _IOW(235, 0, unsigned long)
    assert IOW(235, 0, ctypes.c_uint) == 0x4004EB00
    assert IOR("q", 1, "i") == 0x80047101  # a struct format gives the size
    assert IOWR("q", 3, ctypes.c_int * 4) == 0xC0107103
    assert IO("q", 2) == 0x7102


def test_decoding_as_strace_and_as_the_macro() -> None:
    assert decode(0x40206B01) == "_IOC(_IOC_WRITE, 0x6b, 0x1, 0x20)"
    assert decode(0xC0107103) == "_IOC(_IOC_READ|_IOC_WRITE, 0x71, 0x3, 0x10)"
    assert decode(0x1234) == "_IOC(_IOC_NONE, 0x12, 0x34, 0x0)"
    assert decode(7) == "0x7"
    assert macro(0x4008EB00) == "_IOW(235, 0, 8)" and macro(0x40206B01) == "_IOW('k', 1, 32)"


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(ValueError):
        IOW("k", 256, 4)
    with pytest.raises(ValueError):
        IOW("k", 1, 1 << 14)
    with pytest.raises(ValueError):
        IOW(300, 1, 4)


@given(
    st.sampled_from([0, 1, 2, 3]),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, (1 << 14) - 1),
)
def test_fields_come_back_out(direction: int, type_: int, nr: int, size: int) -> None:
    from ptsandbox.devices.ioctl import IOC

    cmd = IOC(direction, type_, nr, size)
    assert (ioc_dir(cmd), ioc_type(cmd), ioc_nr(cmd), ioc_size(cmd)) == (direction, type_, nr, size)
