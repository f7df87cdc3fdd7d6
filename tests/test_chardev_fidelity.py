"""Corners where a virtual file must answer as a real char device does.

tests/c/chardev_edges.c runs twice: natively on /dev/null (what this kernel
does) and in the sandbox on /dev/chatroom. Every line must be the same, except
where the two devices really differ (listed in CHATROOM_DIFFERS, with why).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import pytest

from ptsandbox.api import Sandbox
from ptsandbox.devices.chatroom import Chatroom
from ptsandbox.vfs import Vfs

# the same semantics whether the device pushes its messages or reads are emulated
pytestmark = pytest.mark.usefixtures("both_read_paths")

# Lines where /dev/chatroom differs from /dev/null by design, not by accident.
CHATROOM_DIFFERS = {
    # a stream (nonseekable_open): pread gives ESPIPE before the range check
    "pread_sizemax": ("EFAULT", "ESPIPE"),
    # past access_ok, the count is clamped to MAX_RW_COUNT: /dev/null takes it
    # all, the chat room refuses a message that long
    "write_past_maxrw": ("2147479552", "EMSGSIZE"),
    "writev_2p62": ("2147479552", "EMSGSIZE"),
    # the chat room queued "<pid> joined the room" and "<pid>: hello" for the
    # second open; /dev/null reads 0
    "read_after": ("0", None),
    "read_after2": ("0", None),
    # /dev/null has write_iter and FMODE_NOWAIT; a driver with only .read and
    # .write goes through the kernel's loop, which refuses every flag but HIPRI
    "pwritev2_nowait": ("3", "EOPNOTSUPP"),
    "pwritev2_dsync": ("3", "EOPNOTSUPP"),
    "preadv2_nowait": ("0", "EOPNOTSUPP"),
}

PATHS = [
    "open_slashslash", "open_slash3", "open_midslash", "open_dot", "open_dotdot",
    "open_missing_dotdot", "open_trailing_slash", "open_trailing_dot",
    "open_trailing_dotdot", "open_through_node", "openat_dirfd", "openat_dirfd_dot",
    "open_relative", "open_relative_dots",
]  # fmt: skip
MODE3 = [
    "open_mode3", "getfl_mode3", "read_mode3", "write_mode3", "readv_mode3",
    "writev_mode3", "ioctl_unknown_mode3", "mmap_mode3", "mmap_wronly",
]  # fmt: skip
RANGES = [
    "write_one", "write_sizemax", "write_2p62", "write_kernel_addr", "read_sizemax",
    "read_2p62", "read_negative_ssize", "pread_negative_pos", "pwrite_negative_pos",
    "pread_sizemax", "write_past_maxrw", "readv_sizemax", "writev_sizemax", "writev_2p62",
    "writev_second_sizemax", "writev_second_kernel", "writev_1025", "writev_0",
    "writev_badvec", "read_after", "read_after2",
]  # fmt: skip
FLAGS = [
    "pwritev2_unknown", "pwritev2_nowait", "pwritev2_dsync", "pwritev2_hipri",
    "pwritev2_none", "pwritev2_unknown_empty", "preadv2_unknown", "preadv2_nowait",
    "preadv2_neg_pos",
]  # fmt: skip


def _lines(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


@pytest.fixture(scope="module")
def results(cprog: Callable[..., str]) -> tuple[dict[str, str], dict[str, str]]:
    """(what /dev/null answers natively, what /dev/chatroom answers in the sandbox)."""
    exe = cprog("chardev_edges")
    native = subprocess.run(
        [exe], env={**os.environ, "CHATDEV": "/dev/null"}, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    with Sandbox([Chatroom()]) as sb:
        p = sb.spawn([exe])
        assert p.wait(timeout=60) == 0, p.output + p.stderr
        sandboxed = _lines(p.output)
        sandboxed["pid"] = str(p.pid)
    return _lines(native.stdout), sandboxed


def _check(results: tuple[dict[str, str], dict[str, str]], keys: list[str]) -> None:
    null, chat = results
    assert set(keys) <= set(null), "the program printed fewer lines than the test knows"
    for key in keys:
        if key in CHATROOM_DIFFERS:
            on_null, on_chat = CHATROOM_DIFFERS[key]
            assert null[key] == on_null, f"{key}: the kernel changed its answer for /dev/null"
            if on_chat is not None:
                assert chat[key] == on_chat, key
        else:
            assert chat[key] == null[key], f"{key}: /dev/null {null[key]}, sandbox {chat[key]}"


def test_other_spellings_of_the_path_name_the_node_as_in_the_kernel(results) -> None:
    # '//dev/chatroom' and '/dev/../dev/chatroom' open it; '/dev/chatroom/.' does not
    _check(results, PATHS)


def test_access_mode_3_opens_an_fd_for_ioctl_only(results) -> None:
    _check(results, MODE3)
    assert results[1]["open_mode3"] == "ok"


def test_the_user_range_is_checked_before_the_device_sees_the_call(results) -> None:
    _check(results, RANGES)
    # the messages queued before all the refused calls are still there, whole
    pid = results[1]["pid"]
    assert results[1]["read_after"] == str(len(f"{pid} joined the room"))
    assert results[1]["read_after2"] == str(len(f"{pid}: hello"))


def test_preadv2_pwritev2_flags_a_driver_cannot_honour_are_eopnotsupp(results) -> None:
    _check(results, FLAGS)


def test_a_node_path_with_a_leading_double_slash_is_the_plain_one() -> None:
    vfs = Vfs()
    try:
        node = vfs.add_node("//dev/chatroom", Chatroom(), 0)
        assert vfs.lookup("/dev/chatroom") is node
    finally:
        vfs.close()
