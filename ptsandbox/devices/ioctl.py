"""ioctl command numbers as the kernel's `_IO*` macros build them, and their names.

    SET_NAME = IOW("k", 1, 32)                  # _IOW('k', 1, char[32])
    SET_CHANNEL = IOW(235, 0, ctypes.c_ulong)   # _IOW(235, 0, unsigned long)
    GET_STATS = IOR("s", 2, "<II")              # a struct of two u32: a struct format

A command packs a direction (none, write = user to driver, read = driver to
user), a type (the "magic" byte), a number and the argument's size in 14
bits, exactly as include/uapi/asm-generic/ioctl.h does on x86_64.

A device names its commands with `Device.ioctls()`, returning
`{cmd: Ioctl("NAME", arg)}`; traces then show `NAME` and the argument the
way it is meant: `arg="int"` (by value: the driver receives the integer
itself), `"string"` (a pointer to a NUL-terminated string, shown quoted) or
`"pointer"` (shown as an address).
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from typing import Any

IOC_NONE, IOC_WRITE, IOC_READ = 0, 1, 2
_NRBITS, _TYPEBITS, _SIZEBITS = 8, 8, 14
_TYPESHIFT = _NRBITS
_SIZESHIFT = _TYPESHIFT + _TYPEBITS
_DIRSHIFT = _SIZESHIFT + _SIZEBITS


def _type_byte(type_: str | int) -> int:
    value = ord(type_) if isinstance(type_, str) else type_
    if not 0 <= value < 1 << _TYPEBITS:
        raise ValueError(f"ioctl type {type_!r} does not fit in 8 bits")
    return value


def sizeof(size: Any) -> int:
    """An argument size from an int, a ctypes type or instance, or a struct format."""
    if isinstance(size, int):
        n = size
    elif isinstance(size, str):
        n = struct.calcsize(size)
    elif isinstance(size, struct.Struct):
        n = size.size
    else:
        n = ctypes.sizeof(size)
    if not 0 <= n < 1 << _SIZEBITS:
        raise ValueError(f"ioctl argument size {n} does not fit in 14 bits")
    return n


def IOC(direction: int, type_: str | int, nr: int, size: Any) -> int:
    """The kernel's _IOC(dir, type, nr, size)."""
    if not 0 <= nr < 1 << _NRBITS:
        raise ValueError(f"ioctl number {nr} does not fit in 8 bits")
    return (
        (direction << _DIRSHIFT)
        | (sizeof(size) << _SIZESHIFT)
        | (_type_byte(type_) << _TYPESHIFT)
        | nr
    )


def IO(type_: str | int, nr: int) -> int:
    """_IO(type, nr): a command without an argument (or with one passed by value)."""
    return IOC(IOC_NONE, type_, nr, 0)


def IOW(type_: str | int, nr: int, size: Any) -> int:
    """_IOW(type, nr, size): the program writes `size` bytes to the driver."""
    return IOC(IOC_WRITE, type_, nr, size)


def IOR(type_: str | int, nr: int, size: Any) -> int:
    """_IOR(type, nr, size): the driver fills `size` bytes for the program."""
    return IOC(IOC_READ, type_, nr, size)


def IOWR(type_: str | int, nr: int, size: Any) -> int:
    """_IOWR(type, nr, size): both ways."""
    return IOC(IOC_READ | IOC_WRITE, type_, nr, size)


def ioc_dir(cmd: int) -> int:
    return (cmd >> _DIRSHIFT) & 3


def ioc_type(cmd: int) -> int:
    return (cmd >> _TYPESHIFT) & 0xFF


def ioc_nr(cmd: int) -> int:
    return cmd & 0xFF


def ioc_size(cmd: int) -> int:
    return (cmd >> _SIZESHIFT) & ((1 << _SIZEBITS) - 1)


_DIR_NAMES = {
    IOC_NONE: "_IOC_NONE",
    IOC_WRITE: "_IOC_WRITE",
    IOC_READ: "_IOC_READ",
    IOC_READ | IOC_WRITE: "_IOC_READ|_IOC_WRITE",
}


def decode(cmd: int) -> str:
    """strace's notation for a command nobody named: `_IOC(_IOC_WRITE, 0x6b, 0x1, 0x20)`."""
    cmd &= 0xFFFFFFFF
    if ioc_dir(cmd) == IOC_NONE and ioc_type(cmd) == 0 and ioc_size(cmd) == 0:
        return f"{cmd:#x}"
    return (
        f"_IOC({_DIR_NAMES[ioc_dir(cmd)]}, {ioc_type(cmd):#x}, {ioc_nr(cmd):#x}, "
        f"{ioc_size(cmd):#x})"
    )


def macro(cmd: int) -> str:
    """The `_IOW('k', 1, 32)` form, for listings (`ptsandbox devices`)."""
    cmd &= 0xFFFFFFFF
    t = ioc_type(cmd)
    shown = repr(chr(t)) if 0x20 < t < 0x7F else str(t)
    d = ioc_dir(cmd)
    if d == IOC_NONE:
        return f"_IO({shown}, {ioc_nr(cmd)})"
    name = {IOC_WRITE: "_IOW", IOC_READ: "_IOR", IOC_READ | IOC_WRITE: "_IOWR"}[d]
    return f"{name}({shown}, {ioc_nr(cmd)}, {ioc_size(cmd)})"


ARG_KINDS = ("int", "string", "pointer")


@dataclass(frozen=True)
class Ioctl:
    """A command's name and how its argument is meant (for traces and records)."""

    name: str
    arg: str = "pointer"  # "int" (by value), "string" (NUL-terminated), "pointer"

    def __post_init__(self) -> None:
        if self.arg not in ARG_KINDS:
            raise ValueError(f"Ioctl {self.name}: arg must be one of {', '.join(ARG_KINDS)}")
