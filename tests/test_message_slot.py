"""message_slot, both profiles, with the students' sender and reader as separate processes."""

from __future__ import annotations

import pytest

from ptsandbox.api import Sandbox
from ptsandbox.devices.message_slot import MessageSlot


def sh(sb: Sandbox, script: str, **kw) -> tuple[int, str]:
    p = sb.spawn(["sh", "-c", script], **kw)
    code = p.wait(30)
    return code, p.output + p.stderr


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_seed_flow_mknod_send_read_on_channels(cprog, static: bool) -> None:
    send, read = cprog("message_sender", static=static), cprog("message_reader", static=static)
    with Sandbox([MessageSlot()]) as sb:
        code, out = sh(
            sb,
            f"mknod /dev/message_slot c 235 0 && test -c /dev/message_slot"
            f" && {send} 0 'Hello zero' && {send} 3 'Three' && {read} 0 && {read} 3"
            f" && {send} 0 'again' && {read} 0 && {read} 1",
        )
        assert code == 0, out
        lines = out.splitlines()
        assert lines == [
            "Sent 10 bytes to channel 0",
            "Sent 5 bytes to channel 3",
            "Hello zero",
            "Read 128 bytes from channel 0",
            "Three",
            "Read 128 bytes from channel 3",
            "Sent 5 bytes to channel 0",
            "again",
            "Read 128 bytes from channel 0",
            "",
            "Read 128 bytes from channel 1",
        ]


def test_seed_sender_with_invalid_channel_fails(cprog) -> None:
    with Sandbox([MessageSlot()]) as sb:
        code, out = sh(sb, f"mknod /dev/message_slot c 235 0; {cprog('message_sender')} 4 nope")
        assert code == 1
        assert "Invalid argument" in out


def test_seed_every_errno(cprog) -> None:
    with Sandbox([MessageSlot()]) as sb:
        code, out = sh(sb, f"mknod /tmp/ms c 235 1 && {cprog('slot_errors')} /tmp/ms seed")
        assert code == 0, out
        got = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        assert got == {
            "read_no_channel": "-1 EINVAL",
            "write_no_channel": "-1 EINVAL",
            "ioctl_wrong_cmd": "-1 EINVAL",
            "ioctl_index_4": "-1 EINVAL",
            "ioctl_index_3": "0",
            "write_200": "128",
            "read_64": "64",
            "read_200": "128",
            "write_bad_ptr": "-1 EFAULT",
            "read_bad_ptr": "-1 EFAULT",
            "zero_fill": "1",
        }


def test_tau_flow_and_every_errno(cprog) -> None:
    send, read = cprog("tau/message_sender"), cprog("tau/message_reader")
    with Sandbox([MessageSlot(config={"profile": "tau"})]) as sb:
        code, out = sh(
            sb,
            f"mknod /tmp/slot0 c 235 0 && {send} /tmp/slot0 1048578 'big id works'"
            f" && {read} /tmp/slot0 1048578",
        )
        assert code == 0 and out == "big id works", out
        code, out = sh(sb, f"mknod /tmp/slot1 c 235 1 && {cprog('slot_errors')} /tmp/slot1 tau")
        assert code == 0, out
        got = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        assert got == {
            "read_no_channel": "-1 EINVAL",
            "write_no_channel": "-1 EINVAL",
            "ioctl_wrong_cmd": "-1 EINVAL",
            "ioctl_zero": "-1 EINVAL",
            "ioctl_big_id": "0",
            "read_empty_channel": "-1 EAGAIN",  # EWOULDBLOCK is EAGAIN on Linux
            "write_0": "-1 EMSGSIZE",
            "write_129": "-1 EMSGSIZE",
            "write_bad_ptr": "-1 EFAULT",
            "write_hello": "5",
            "read_small": "-1 ENOSPC",
            "read_bad_ptr": "-1 EFAULT",
            "read_hello": "5",
            "read_content": "hello",
            "ioctl_long_encoding": "0",
            "second_fd_same_channel": "5",
            "reread": "5",
        }


def test_two_nodes_are_two_slots_and_hard_links_share_one(cprog) -> None:
    send, read = cprog("tau/message_sender"), cprog("tau/message_reader")
    with Sandbox([MessageSlot(config={"profile": "tau"})]) as sb:
        code, out = sh(
            sb,
            f"mknod /tmp/a c 235 0 && mknod /tmp/b c 235 0 && ln /tmp/a /tmp/a2"
            f" && {send} /tmp/a 5 via-a && {read} /tmp/a2 5 && echo"
            f" && {read} /tmp/b 5",
        )
        assert code == 1
        assert out.startswith("via-a\n")
        assert "Resource temporarily unavailable" in out  # /tmp/b's channel 5 is empty


def test_tau_reader_usage_error_exits_1(cprog) -> None:
    with Sandbox([MessageSlot(config={"profile": "tau"})]) as sb:
        p = sb.spawn([cprog("tau/message_sender"), "/tmp/x"])
        assert p.wait() == 1 and p.stderr


def test_nodes_declared_in_configuration(cprog) -> None:
    slot = MessageSlot(config={"profile": "tau", "nodes": "/tmp/cfg0@0;/tmp/cfg1@1"})
    with Sandbox([slot]) as sb:
        code, out = sh(sb, "test -c /tmp/cfg0 && test -c /tmp/cfg1 && stat -c %t:%T /tmp/cfg1")
        assert code == 0 and out.strip() == "eb:1"


def test_ioctl_number_and_channel_range_are_parameters(cprog) -> None:
    # a course whose header uses _IOW(235, 0, unsigned long) only and channels 0..15
    slot = MessageSlot(config={"accept_both_sizes": False, "channel_max": 15})
    with Sandbox([slot]) as sb:
        code, out = sh(
            sb,
            f"mknod /dev/message_slot c 235 0 && {cprog('message_sender')} 12 twelve"
            f" && {cprog('message_reader')} 12",
        )
        assert code == 0 and "twelve" in out, out
