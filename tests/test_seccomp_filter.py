"""The BPF programs, run by a small interpreter of the instructions they use."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from ptsandbox import seccomp
from ptsandbox.sysnr import NR

X86_64 = seccomp.AUDIT_ARCH_X86_64
I386 = 0x40000003


def run_bpf(prog: bytes, nr: int, arch: int, args: tuple[int, ...] = (0,) * 6) -> int:
    data = struct.pack("<iIQ6Q", nr, arch, 0, *args)
    insns = [struct.unpack_from("<HBBI", prog, i) for i in range(0, len(prog), 8)]
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == 0x20:
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == 0x06:
            return k
        elif code in (0x15, 0x35):
            cond = acc == k if code == 0x15 else acc >= k
            pc += jt if cond else jf
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        pc += 1


TRAPPED = {NR[n] for n in seccomp.PATH_SYSCALLS + seccomp.ALWAYS_SYSCALLS}


@given(st.integers(0, 460))
def test_base_filter_traps_exactly_the_path_and_always_calls(nr: int) -> None:
    want = seccomp.RET_TRACE if nr in TRAPPED else seccomp.RET_ALLOW
    assert run_bpf(seccomp.base_filter(), nr, X86_64) == want


@given(st.integers(0, 460))
def test_base_filter_refuses_every_i386_and_x32_call_with_enosys(nr: int) -> None:
    prog = seccomp.base_filter()
    assert run_bpf(prog, nr, I386) == seccomp.RET_ERRNO | 38
    assert run_bpf(prog, nr | 0x40000000, X86_64) == seccomp.RET_ERRNO | 38


def test_extra_syscalls_are_trapped() -> None:
    assert run_bpf(seccomp.base_filter([400]), 400, X86_64) == seccomp.RET_TRACE


@given(
    st.sampled_from(sorted(seccomp.FD_SYSCALLS)),
    st.integers(0, 1023),
    st.lists(st.integers(0, 2**64 - 1), min_size=6, max_size=6),
)
def test_watch_filter_traps_only_its_fd(name: str, fd: int, args: list[int]) -> None:
    prog = seccomp.watch_filter([fd])
    positions = seccomp.FD_SYSCALLS[name]
    hit = any(args[i] & 0xFFFFFFFF == fd for i in positions)
    got = run_bpf(prog, NR[name], X86_64, tuple(args))
    assert got == (seccomp.RET_TRACE if hit else seccomp.RET_ALLOW)


@given(
    st.sampled_from(sorted(seccomp.FD_SYSCALLS)),
    st.integers(0, 1023),
    st.lists(st.integers(0, 2**64 - 1), min_size=6, max_size=6),
)
def test_notify_watch_filter_notifies_data_calls_and_traps_the_rest(
    name: str, fd: int, args: list[int]
) -> None:
    prog = seccomp.watch_filter([fd], notify=True)
    hit = any(args[i] & 0xFFFFFFFF == fd for i in seccomp.FD_SYSCALLS[name])
    got = run_bpf(prog, NR[name], X86_64, tuple(args))
    if not hit:
        assert got == seccomp.RET_ALLOW
    elif name in seccomp.NOTIFY_SYSCALLS:
        assert got == seccomp.RET_USER_NOTIF
    else:
        assert got == seccomp.RET_TRACE


@given(
    st.integers(0, 1023),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
)
def test_watch_filter_traps_close_range_covering_its_fd(fd: int, first: int, last: int) -> None:
    prog = seccomp.watch_filter([fd])
    hit = first & 0xFFFFFFFF <= fd <= last & 0xFFFFFFFF  # the kernel takes unsigned ints
    got = run_bpf(prog, NR["close_range"], X86_64, (first, last, 0, 0, 0, 0))
    assert got == (seccomp.RET_TRACE if hit else seccomp.RET_ALLOW)


def test_watch_filter_traps_close_range_of_exactly_its_fd() -> None:
    prog = seccomp.watch_filter([7])
    call = NR["close_range"]
    assert run_bpf(prog, call, X86_64, (7, 7, 0, 0, 0, 0)) == seccomp.RET_TRACE
    assert run_bpf(prog, call, X86_64, (3, 2**32 - 1, 0, 0, 0, 0)) == seccomp.RET_TRACE
    assert run_bpf(prog, call, X86_64, (8, 9, 0, 0, 0, 0)) == seccomp.RET_ALLOW
    assert run_bpf(prog, call, X86_64, (3, 6, 0, 0, 0, 0)) == seccomp.RET_ALLOW


_WATCHED_NRS = {NR[x] for x in seccomp.FD_SYSCALLS} | {NR["close_range"]}


@given(st.integers(0, 460).filter(lambda n: n not in _WATCHED_NRS))
def test_watch_filter_ignores_other_calls(nr: int) -> None:
    assert run_bpf(seccomp.watch_filter([3]), nr, X86_64, (3,) * 6) == seccomp.RET_ALLOW
