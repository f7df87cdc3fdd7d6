"""`ptsandbox demo message-slot | mq | mailbox`: each text's flow, run for real.

Every demo compiles the clients in cprogs/ with gcc, runs them under one
private supervisor and prints a transcript: each command as typed, then what
it printed. The chat room's demo (a timeline table) is in demo.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from .api import Proc, Sandbox
from .cc import compile_c, cprogs_dir
from .devices.mailbox import Mailbox
from .devices.message_slot import MessageSlot
from .devices.mq import Mq

console = Console(highlight=False)


def _build(*names: str) -> dict[str, str]:
    src = cprogs_dir()
    return {
        Path(n).name: str(compile_c([src / f"{n}.c"], name=Path(n).name.replace("/", "_"),
                                    flags=("-O2", "-pthread", f"-I{src / Path(n).parent}")))
        for n in names
    }  # fmt: skip


def _show(prompt: str, p: Proc, timeout: float = 10.0) -> None:
    code = p.wait(timeout)
    console.print(f"[bold]$ {prompt}[/bold]")
    for line in (p.output + p.stderr).splitlines():
        console.print(f"  {line}")
    if code:
        console.print(f"  [red](exit status {code})[/red]")


def message_slot_demo() -> None:
    """seeds/message_slot.txt: load, mknod, send and read on several channels."""
    progs = _build("message_sender", "message_reader")
    slot = MessageSlot()
    make = f"mknod /dev/message_slot c {slot.major_number} 0 && ls -l /dev/message_slot"
    with Sandbox([slot]) as sb:
        console.print("[bold]# 1. insmod message_slot.ko[/bold]")
        for _, name, line in sb.sup.dmesg:
            console.print(f"  [{name}] {line}")

        def run(argv: list[str], shown: str) -> None:
            _show(shown, sb.spawn(argv))

        console.print("[bold]# 2. define a device file managed by the driver (mknod)[/bold]")
        # a virtual node: it shadows a real /dev/message_slot a real module left
        run(["sh", "-c", make], make)
        console.print(
            "[bold]# 3-5. send and read, on different channels, in different orders[/bold]"
        )
        steps = [
            ("message_sender", ["0", "Hello on channel zero"]),
            ("message_sender", ["3", "Channel three here"]),
            ("message_reader", ["0"]),
            ("message_reader", ["3"]),
            ("message_reader", ["0"]),
            ("message_sender", ["0", "Overwritten"]),
            ("message_reader", ["0"]),
            ("message_reader", ["1"]),
            ("message_sender", ["7", "no such channel"]),
        ]
        for prog, args in steps:
            run([progs[prog], *args], " ".join([f"./{prog}", *args]))
        for s in sb.devices["message_slot"].snapshot()["slots"]:
            console.print(f"[bold]# the slot now holds[/bold] {s['channels']}")


def mq_demo() -> None:
    """seeds/mq_readme.txt: register, unicast, broadcast, read, errors, overflow."""
    client = _build("mq_client")["mq_client"]
    with Sandbox([Mq(config={"QUEUE_LEN": 3})]) as sb:
        procs = {n: sb.spawn([client]) for n in ("A", "B", "C")}
        for p in procs.values():
            p.expect("mq client ready\n")

        def say(who: str, line: str, until: str = r"\n") -> None:
            p = procs[who]
            start = len(p.output)
            p.sendline(line)
            p.expect(until)
            console.print(f"[bold]{who}> {line}[/bold]")
            for out in p.output[start:].splitlines():
                console.print(f"    {out}")

        script: list[tuple[str, str, str]] = [
            ("A", "/reg alice", r"\n"), ("B", "/reg bob", r"\n"), ("C", "/reg carol", r"\n"),
            ("B", "/reg bob", r"\n"),
            ("A", "/msg bob hi bob, alice here", r"\n"),
            ("B", "/read", r"\n"), ("B", "/read", r"\n"),
            ("C", "/all hello everyone", r"\n"),
            ("A", "/read", r"\n"), ("B", "/read", r"\n"),
            ("A", "/msg nobody are you there?", r"\n"),
            ("A", "/msg carol one", r"\n"), ("A", "/msg carol two", r"\n"),
            ("A", "/msg carol three", r"\n"), ("A", "/msg carol four", r"\n"),
            ("C", "/readall", r"\(no messages\)\n"),
            ("B", "/unr", r"\n"), ("B", "/read", r"\n"),
        ]  # fmt: skip
        for who, line, until in script:
            say(who, line, until)
        snap = sb.devices["mq"].snapshot()
        console.print(
            f"[bold]# overwritten by the full queue (QUEUE_LEN=3):[/bold] {snap['overwritten']}"
        )
        for p in procs.values():
            p.sendline("/exit")
            p.wait()


def mailbox_demo() -> None:
    """seeds/mailbox.txt: the barrier of forked children, in both send modes."""
    barrier = _build("barrier")["barrier"]
    for mode in ("rendezvous", "queued"):
        console.print(f"[bold]# mode={mode}: ./barrier 5[/bold]")
        with Sandbox([Mailbox(config={"mode": mode, "receive": "block"})]) as sb:
            p = sb.spawn([barrier, "5"])
            code = p.wait(30)
            for line in p.output.splitlines():
                console.print(f"  {line}")
            released = len(re.findall(r"^\[\d+\] released$", p.output, re.M))
            console.print(f"  exit status {code}; {released} release lines")


DEMOS: dict[str, Callable[[], None]] = {
    "message-slot": message_slot_demo,
    "mq": mq_demo,
    "mailbox": mailbox_demo,
}
