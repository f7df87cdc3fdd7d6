"""x86_64 syscall numbers and names.

python-ptrace's table mixes in the x32 numbers (512+) under the same names, so
the name -> number map keeps only the native x86_64 range and adds the calls
newer than that table.
"""

from __future__ import annotations

from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES as _PT_NAMES

X32_SYSCALL_BIT = 0x40000000

NAMES: dict[int, str] = {nr: name for nr, name in _PT_NAMES.items() if nr < 512}
NAMES.update({335: "uretprobe", 336: "uprobe"})  # Linux 6.11 / 6.16
NAMES.update({450: "set_mempolicy_home_node", 451: "cachestat", 452: "fchmodat2"})
NAMES.update({453: "map_shadow_stack", 454: "futex_wake", 455: "futex_wait"})
NAMES.update({456: "futex_requeue", 457: "statmount", 458: "listmount"})
NAMES.update({459: "lsm_get_self_attr", 460: "lsm_set_self_attr", 461: "lsm_list_modules"})
NAMES.update({462: "mseal", 463: "setxattrat", 464: "getxattrat", 465: "listxattrat"})
NAMES.update({466: "removexattrat", 467: "open_tree_attr"})

NR: dict[str, int] = {name: nr for nr, name in NAMES.items()}


def name_of(nr: int) -> str:
    """The syscall's name, or `syscall_N` for numbers no table knows."""
    return NAMES.get(nr, f"syscall_{nr}")
