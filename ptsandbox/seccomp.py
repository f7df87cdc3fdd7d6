"""Seccomp-BPF programs: which syscalls stop the tracee.

Two kinds of filter, both built here as plain bytes (installing them is the
tracer's job):

* the *base* filter, installed before exec: traps every call that can name a
  virtual *path* (open, stat, access, mknod, ...), a few calls that need a look
  whatever their arguments (recvmsg may carry a device fd, io_uring bypasses
  seccomp) and extra numbers such as new syscalls; every non-x86_64 call
  (i386 `int 0x80`, x32) is refused with ENOSYS by the filter itself, so none
  slips past and none costs a stop;
* a *watch* filter per fd number that holds a virtual file in a process: it
  traps the fd-taking calls only when their fd argument is that number, and
  `close_range` when its range covers that number (every call that can close
  a watched number stops, so a cache of (process, fd) -> file can be exact).

Everything else is decided by arch and number alone, so the kernel's seccomp
action cache lets it through without even running the filter.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .sysnr import NR, X32_SYSCALL_BIT

AUDIT_ARCH_X86_64 = 0xC000003E

# BPF opcodes (linux/bpf_common.h)
_LD_W_ABS = 0x00 | 0x00 | 0x20
_JEQ_K = 0x05 | 0x10 | 0x00
_JGE_K = 0x05 | 0x30 | 0x00
_RET_K = 0x06 | 0x00

RET_ALLOW = 0x7FFF0000
RET_TRACE = 0x7FF00000
RET_USER_NOTIF = 0x7FC00000
RET_ERRNO = 0x00050000
RET_ENOSYS = RET_ERRNO | 38

# struct seccomp_data offsets
_OFF_NR = 0
_OFF_ARCH = 4


def _arg_low(i: int) -> int:
    return 16 + 8 * i  # little-endian: the low 32 bits come first


# Calls whose path argument may name a virtual node. Always trapped.
PATH_SYSCALLS: tuple[str, ...] = (
    "open", "openat", "openat2", "creat",
    "stat", "lstat", "newfstatat", "statx",
    "access", "faccessat", "faccessat2",
    "readlink", "readlinkat", "mknod", "mknodat",
    "chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat",
    "truncate", "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat",
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "utime", "utimes", "futimesat", "utimensat",
    "getxattr", "lgetxattr", "setxattr", "lsetxattr",
    "listxattr", "llistxattr", "removexattr", "lremovexattr",
    "statfs", "chdir", "chroot", "execve",
)  # fmt: skip

# Always trapped for another reason: SCM_RIGHTS can hand over a virtual fd,
# io_uring would bypass the filter altogether, ptrace could stop the supervisor.
ALWAYS_SYSCALLS: tuple[str, ...] = ("recvmsg", "recvmmsg", "io_uring_setup", "ptrace")

# fd-taking calls and which argument(s) hold the fd. Trapped per watched fd.
FD_SYSCALLS: dict[str, tuple[int, ...]] = {
    name: (0,)
    for name in (
        "read", "write", "close", "fstat", "lseek", "ioctl", "pread64", "pwrite64",
        "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2",
        "dup", "dup2", "dup3", "fcntl", "fsync", "fdatasync", "ftruncate",
        "getdents", "getdents64", "fchdir", "fchmod", "fchown", "fstatfs",
        "readahead", "fsetxattr", "fgetxattr", "flistxattr", "fremovexattr",
        "fadvise64", "fallocate", "sync_file_range", "vmsplice",
        "sendto", "recvfrom", "sendmsg", "sendmmsg", "shutdown", "bind",
        "connect", "listen", "accept", "accept4", "getsockname",
        "getpeername", "setsockopt", "getsockopt", "execveat",
    )
}  # fmt: skip
# dup2/dup3 onto a watched number close what it held: trapped so that the
# syscall layer's (process, fd) cache can forget it (as for close and close_range)
FD_SYSCALLS.update({"dup2": (0, 1), "dup3": (0, 1)})
FD_SYSCALLS.update({"sendfile": (0, 1), "tee": (0, 1), "splice": (0, 2)})
FD_SYSCALLS.update({"copy_file_range": (0, 2), "mmap": (4,)})

# The device's data calls: with the notify backend these go to the supervisor as
# seccomp user notifications (no ptrace stop), every other watched call stops.
NOTIFY_SYSCALLS: tuple[str, ...] = ("read", "write", "ioctl")


@dataclass(frozen=True)
class _Insn:
    code: int
    k: int
    jt: str | int = 0  # label or relative offset
    jf: str | int = 0


class _Asm:
    """A tiny label-resolving BPF assembler (jumps are forward only)."""

    def __init__(self) -> None:
        self.items: list[_Insn | str] = []

    def ld(self, off: int) -> None:
        self.items.append(_Insn(_LD_W_ABS, off))

    def jeq(self, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        self.items.append(_Insn(_JEQ_K, k, jt, jf))

    def jge(self, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        self.items.append(_Insn(_JGE_K, k, jt, jf))

    def ret(self, k: int) -> None:
        self.items.append(_Insn(_RET_K, k))

    def label(self, name: str) -> None:
        self.items.append(name)

    def assemble(self) -> bytes:
        where: dict[str, int] = {}
        insns: list[_Insn] = []
        for item in self.items:
            if isinstance(item, str):
                where[item] = len(insns)
            else:
                insns.append(item)
        out = bytearray()
        for pc, insn in enumerate(insns):
            jt, jf = (self._rel(j, pc, where) for j in (insn.jt, insn.jf))
            out += struct.pack("<HBBI", insn.code, jt, jf, insn.k)
        if len(insns) > 4096:
            raise ValueError("seccomp filter longer than BPF_MAXINSNS")
        return bytes(out)

    @staticmethod
    def _rel(target: str | int, pc: int, where: dict[str, int]) -> int:
        if isinstance(target, int):
            return target
        off = where[target] - pc - 1
        if not 0 <= off <= 255:
            raise ValueError(f"jump to {target} out of range ({off})")
        return off


def base_filter(extra_syscalls: Iterable[int] = ()) -> bytes:
    """The filter installed before exec (see module docstring)."""
    trapped = sorted({NR[n] for n in PATH_SYSCALLS + ALWAYS_SYSCALLS} | set(extra_syscalls))
    a = _Asm()
    a.ld(_OFF_ARCH)
    a.jeq(AUDIT_ARCH_X86_64, 0, "enosys")
    a.ld(_OFF_NR)
    a.jge(X32_SYSCALL_BIT, "enosys", 0)
    for nr in trapped:
        a.jeq(nr, "trace", 0)
    a.ret(RET_ALLOW)
    a.label("trace")
    a.ret(RET_TRACE)
    a.label("enosys")
    a.ret(RET_ENOSYS)
    return a.assemble()


def probe_filter(nr: int) -> bytes:
    """A filter trapping syscall `nr` only (the kernel feature probe)."""
    a = _Asm()
    a.ld(_OFF_NR)
    a.jeq(nr, 0, 1)
    a.ret(RET_TRACE)
    a.ret(RET_ALLOW)
    return a.assemble()


def watch_filter(fds: Sequence[int], notify: bool = False) -> bytes:
    """A filter trapping the fd-taking calls whose fd argument is one of `fds`;
    with `notify`, the NOTIFY_SYSCALLS among them return RET_USER_NOTIF instead
    (for the filter's listener) and the others RET_TRACE."""
    if not fds:
        raise ValueError("watch_filter needs at least one fd")
    by_args: dict[tuple[int, ...], list[int]] = {}
    for name, args in FD_SYSCALLS.items():
        if not (notify and name in NOTIFY_SYSCALLS):
            by_args.setdefault(args, []).append(NR[name])
    a = _Asm()
    a.ld(_OFF_ARCH)
    a.jeq(AUDIT_ARCH_X86_64, 0, "allow")  # other arches: the base filter traps them
    a.ld(_OFF_NR)
    if notify:
        for name in NOTIFY_SYSCALLS:
            a.jeq(NR[name], "notify_args", 0)
    for args, nrs in by_args.items():
        for nr in sorted(nrs):
            a.jeq(nr, f"args{'_'.join(map(str, args))}", 0)
    a.jeq(NR["close_range"], "close_range", 0)
    a.label("allow")
    a.ret(RET_ALLOW)
    a.label("close_range")  # close_range(first, last, flags): first <= fd <= last
    for fd in fds:
        a.ld(_arg_low(0))
        a.jge(fd + 1, 2, 0)  # first > fd: not this one
        a.ld(_arg_low(1))
        a.jge(fd, "trace", 0)
    a.ret(RET_ALLOW)
    for args in by_args:
        a.label(f"args{'_'.join(map(str, args))}")
        for i in args:
            a.ld(_arg_low(i))  # the kernel reads an fd as unsigned int: low word only
            for fd in fds:
                a.jeq(fd, "trace", 0)
        a.ret(RET_ALLOW)
    if notify:
        a.label("notify_args")
        a.ld(_arg_low(0))
        for fd in fds:
            a.jeq(fd, "notify", 0)
        a.ret(RET_ALLOW)
        a.label("notify")
        a.ret(RET_USER_NOTIF)
    a.label("trace")
    a.ret(RET_TRACE)
    return a.assemble()


def fprog_count(program: bytes) -> int:
    """Number of instructions in an assembled program (for struct sock_fprog)."""
    return len(program) // 8
