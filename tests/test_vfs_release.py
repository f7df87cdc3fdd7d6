"""The VFS releases a description when the tracee's side of its backing socket
is gone, and only then (direct unit tests, no tracee)."""

from __future__ import annotations

import socket

import pytest

from ptsandbox.devices.base import DeviceFile
from ptsandbox.devices.chatroom import Chatroom
from ptsandbox.vfs import OpenFile, Vfs

# the same semantics whether the device pushes its messages or reads are emulated
pytestmark = pytest.mark.usefixtures("both_read_paths")


def _file(vfs: Vfs) -> tuple[OpenFile, socket.socket]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    node = vfs.add_node("/dev/chatroom", Chatroom(), 0)
    return OpenFile(node, DeviceFile(), 2, ours, 1, 1), theirs


def test_an_empty_packet_from_the_tracee_side_is_not_a_hang_up() -> None:
    # a racing program can get a 0-byte write through to the backing socket
    vfs = Vfs()
    f, theirs = _file(vfs)
    try:
        theirs.send(b"")
        theirs.send(b"junk")
        assert not vfs.hung_up(f)
        assert not vfs.hung_up(f)  # and what came was drained
        theirs.close()
        assert vfs.hung_up(f)
    finally:
        f.end.close()
        vfs.close()
