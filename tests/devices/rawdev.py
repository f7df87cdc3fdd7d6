"""A course-variant device for the tests: raw return values like real modules."""

from __future__ import annotations

from typing import ClassVar

from ptsandbox.devices.base import Context, Device, DeviceFile, Param


class RawFile(DeviceFile):
    def __init__(self, dev: RawDevice) -> None:
        self.dev = dev

    def read(self, ctx: Context, buf: int, count: int) -> int:
        return int(self.dev["read_returns"])  # e.g. a bare -1, as some modules do

    def write(self, ctx: Context, buf: int, count: int) -> int:
        return 0  # "0 on success", another real convention


class RawDevice(Device):
    name: ClassVar[str] = "rawdev"
    major: ClassVar[int] = 250
    params: ClassVar[tuple[Param, ...]] = (
        Param("read_returns", -1, "what every read returns", int, -4095, 1 << 30),
    )

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        return RawFile(self)
