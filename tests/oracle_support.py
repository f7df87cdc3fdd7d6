"""The real-kernel recordings of tests/oracle/ and running their scripts in ptsandbox.

tests/oracle/MODULE/ holds, for one test module of tests/kmod/MODULE/, the
scripts (`*.ks` for tests/oracle/kscript.c, `*.sh` for the course clients),
the shell line that makes its nodes (`nodes`), and what Linux 6.1 did with
the real .ko (`SCRIPT.out`, `SCRIPT.dmesg`), recorded by tests/oracle/record.sh.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ptsandbox.api import Sandbox
from ptsandbox.cc import compile_c
from ptsandbox.devices.base import Device
from ptsandbox.devices.chatroom import Chatroom
from ptsandbox.devices.message_slot import MessageSlot
from ptsandbox.devices.mq import Mq

ROOT = Path(__file__).resolve().parent.parent
ORACLE = ROOT / "tests" / "oracle"
KMOD = ROOT / "tests" / "kmod"
CPROGS = ROOT / "cprogs"

# module -> the built-in device that models the same assignment
BUILTIN: dict[str, Callable[[dict[str, str]], Device]] = {
    "msgslot_seed": lambda p: MessageSlot(config={"profile": "seed", **p}),
    "msgslot_tau": lambda p: MessageSlot(config={"profile": "tau", **p}),
    "chatroom": lambda p: Chatroom(config=p),
    "mq": lambda p: Mq(config=p),
}

# BIN/NAME -> source of each program the scripts run, as record.sh builds them
PROGRAMS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "kscript": (ORACLE / "kscript.c", ()),
    "message_sender": (CPROGS / "message_sender.c", ()),
    "message_reader": (CPROGS / "message_reader.c", ()),
    "tau_message_sender": (CPROGS / "tau" / "message_sender.c", (f"-I{CPROGS / 'tau'}",)),
    "tau_message_reader": (CPROGS / "tau" / "message_reader.c", (f"-I{CPROGS / 'tau'}",)),
    "joinchat": (CPROGS / "joinchat.c", ()),
    "mq_client": (CPROGS / "mq_client.c", ()),
}


def modules() -> list[str]:
    """The correct modules (their recordings define the expected results)."""
    found = (p.parent for p in ORACLE.glob("*/nodes"))
    return sorted(d.name for d in found if not (d / "expect").exists())


def variants() -> list[str]:
    """The one-bug variants: tests/oracle/VARIANT/expect holds the kernel report kind."""
    return sorted(p.parent.name for p in ORACLE.glob("*/expect"))


def expected_reports(variant: str) -> list[str]:
    """The report a variant's bug must give: any one line of VARIANT/expect, in the
    run's stderr (`stdout:TEXT`: in its stdout, where a bug shows only in the data)."""
    text = (ORACLE / variant / "expect").read_text()
    return [line for line in text.splitlines() if line.strip()]


def base_of(variant: str) -> str:
    return max((m for m in modules() if variant.startswith(m + "_")), key=len)


def scripts(module: str) -> list[Path]:
    d = ORACLE / module
    return sorted(d.glob("*.ks")) + sorted(d.glob("*.sh"))


def cases() -> Iterator[tuple[str, str]]:
    for module in modules():
        for script in scripts(module):
            yield module, script.name


def params(script: Path) -> dict[str, str]:
    """`#! params: K=V ...` of a script: the module's load parameters."""
    for line in script.read_text().splitlines():
        if line.startswith("#! params:"):
            return dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split())
    return {}


def build_bin(out_dir: Path) -> Path:
    """A directory of the programs the scripts call, by the names record.sh gives them."""
    bin_dir = out_dir / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, (src, extra) in PROGRAMS.items():
        flags = ["-Wall", "-O2", "-pthread", f"-I{CPROGS}", *extra]
        exe = compile_c([src], name=f"oracle_{name}", flags=flags, out_dir=out_dir)
        link = bin_dir / name
        if not link.exists():
            link.symlink_to(exe)
    return bin_dir


def command(module: str, script: str, bin_dir: Path) -> str:
    """The shell line guest.sh runs for one script (after insmod), for `sh -c`."""
    path = ORACLE / module / script
    nodes = ORACLE / module / "nodes"
    run = f"{bin_dir}/kscript {path}; echo exit=$?" if script.endswith(".ks") else f"sh {path}"
    return f"sh {nodes}; {run}"


def run_builtin(module: str, script: str, bin_dir: Path, tmp: Path, timeout: float = 60) -> str:
    """Run one script under a private sandbox with the built-in device; its output."""
    device = BUILTIN[module](params(ORACLE / module / script))
    env = dict(os.environ, BIN=str(bin_dir), TMPDIR=str(tmp))
    with Sandbox([device]) as sb:
        p = sb.spawn(["sh", "-c", command(module, script, bin_dir)], env=env, cwd=str(tmp))
        p.wait(timeout)
        return p.output + p.stderr


def recorded(module: str, script: str) -> str:
    return (ORACLE / module / f"{script}.out").read_text()


def by_process(output: str) -> dict[str, list[str]]:
    """kscript lines grouped by process ("main 3: ..."): each process's own order is
    deterministic, the interleaving of processes is not."""
    groups: dict[str, list[str]] = {}
    for line in output.splitlines():
        proc = line.split(" ", 1)[0] if ": " in line and line[:1].isalpha() else "-"
        groups.setdefault(proc, []).append(line)
    return groups


def difference(want: str, got: str) -> str:
    """A readable diff of two kscript outputs, each process's lines together."""
    import difflib

    def flat(text: str) -> list[str]:
        return [line for lines in sorted(by_process(text).items()) for line in lines[1]]

    return "\n".join(difflib.unified_diff(flat(want), flat(got), "real kernel", "ptsandbox", n=1))


def module_printk(module: str, script: str, prefix: str) -> list[str]:
    """The module's own printk lines of one recorded run (the kernel's taint
    messages and other drivers' lines left out)."""
    text = (ORACLE / module / f"{script}.dmesg").read_text()
    kernel_own = ("loading out-of-tree module taints kernel", "module verification failed")
    return [
        line
        for line in text.splitlines()
        if line.startswith(prefix) and not any(k in line for k in kernel_own)
    ]
