"""`ptsandbox demo chatroom`: the seed's three-client timeline, replayed for real.

Three compiled `joinchat` clients run under one supervisor. Each step types a
line into one client and waits until every client that should react has
printed its line, then the whole session is shown as the seed's table: one
column per process, one row per step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .api import Proc, Sandbox
from .cc import compile_c, cprogs_dir


@dataclass
class Step:
    who: str  # the process acting
    action: str  # "join" or a line typed
    expect: dict[str, list[str]] = field(default_factory=dict)  # lines each process prints


SEED_TIMELINE: list[Step] = [
    Step("P1", "join", {"P1": ["You joined as P1"]}),
    Step("P2", "join", {"P2": ["You joined as P2"], "P1": ["P2 joined the room"]}),
    Step("P1", "Hello P2!", {"P2": ["P1: Hello P2!"]}),
    Step("P2", "Hello back to you P1!", {"P1": ["P2: Hello back to you P1!"]}),
    Step(
        "P3",
        "join",
        {"P3": ["You joined as P3"], "P1": ["P3 joined the room"], "P2": ["P3 joined the room"]},
    ),
    Step("P3", "Anyone here?", {"P1": ["P3: Anyone here?"], "P2": ["P3: Anyone here?"]}),
    Step(
        "P1",
        "Hello P3, I am here!",
        {"P2": ["P1: Hello P3, I am here!"], "P3": ["P1: Hello P3, I am here!"]},
    ),
    Step(
        "P2", "Hey P3, P2 here!", {"P1": ["P2: Hey P3, P2 here!"], "P3": ["P2: Hey P3, P2 here!"]}
    ),
    Step("P1", "Bye!", {"P2": ["P1 left"], "P3": ["P1 left"]}),
]


def run_chatroom_demo(timeout: float = 10.0) -> list[dict[str, list[str]]]:
    """Replay the timeline; return, per step, what each process showed."""
    joinchat = compile_c([cprogs_dir() / "joinchat.c"], flags=("-O2", "-pthread"))
    rows: list[dict[str, list[str]]] = []
    with Sandbox() as sb:
        procs: dict[str, Proc] = {}
        for step in SEED_TIMELINE:
            row: dict[str, list[str]] = {}
            if step.action == "join":
                procs[step.who] = sb.spawn([str(joinchat), step.who])
                row[step.who] = [f"$ joinchat {step.who}"]
            else:
                procs[step.who].sendline(step.action)
                row[step.who] = [f"{step.who}> {step.action}"]
            for who, lines in step.expect.items():
                for line in lines:
                    procs[who].expect(re.escape(line) + "\n", timeout)
                    row.setdefault(who, []).append(line)
            rows.append(row)
        for who in ("P2", "P3"):
            procs[who].sendline("Bye!")
        for p in procs.values():
            p.wait(timeout)
    return rows


def print_timeline(rows: list[dict[str, list[str]]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="/dev/chatroom — the assignment's timeline, run under ptsandbox")
    table.add_column("Time", justify="right")
    for n in (1, 2, 3):
        table.add_column(f"Process {n}")
    for i, row in enumerate(rows, 1):
        table.add_row(str(i), *("\n".join(row.get(f"P{n}", [])) for n in (1, 2, 3)))
    Console().print(table)
