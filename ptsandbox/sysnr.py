"""x86_64 syscall numbers and names.

python-ptrace's table mixes in the x32 numbers (512+) under the same names, so
the name -> number map keeps only the native x86_64 range and adds the calls
newer than that table.
"""

from __future__ import annotations

from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES as _PT_NAMES

X32_SYSCALL_BIT = 0x40000000

NAMES: dict[int, str] = {nr: name for nr, name in _PT_NAMES.items() if nr < 512}
NAMES.update({450: "set_mempolicy_home_node", 451: "cachestat", 452: "fchmodat2"})

NR: dict[str, int] = {name: nr for nr, name in NAMES.items()}


def name_of(nr: int) -> str:
    """The syscall's name, or `syscall_N` for numbers no table knows."""
    return NAMES.get(nr, f"syscall_{nr}")
