"""A course variant of /dev/chatroom whose read returns 0 instead of blocking.

Several courses' modules do this: with nothing queued, read() gives 0 bytes,
and the client loops. Everything else is the built-in chat room. Try it:

    ptsandbox run --device examples/chatroom_read_zero.py:ReadZeroChatroom ./joinchat P1
"""

from __future__ import annotations

from typing import ClassVar

from ptsandbox.devices.base import Block, Context, DeviceFile
from ptsandbox.devices.chatroom import Chatroom, ChatroomFile


class ReadZeroFile(ChatroomFile):
    def read(self, ctx: Context, buf: int, count: int) -> int:
        try:
            return super().read(ctx, buf, count)
        except Block:
            return 0  # the module's "nothing for you yet"


class ReadZeroChatroom(Chatroom):
    # same name as the built-in: given with --device, it takes its place
    name: ClassVar[str] = "chatroom"
    description: ClassVar[str] = "a chat room whose read returns 0 when empty"

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        member_file = super().open(ctx, minor, inode)
        assert isinstance(member_file, ChatroomFile)
        return ReadZeroFile(self, member_file.member)
