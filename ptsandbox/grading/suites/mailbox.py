"""The mailbox syscalls (seeds/mailbox.txt): the text's barrier of forked children.

`barrier [N]` forks N children that meet at a barrier built on mysend/myreceive;
each prints a line with its pid right before it blocks and right after it is
released. The grader learns the children's pids from the trace (who called
myreceive) and checks the log lines and their order.
"""

from __future__ import annotations

import re

from ...api import Proc
from ..context import ScenarioContext
from ..model import Assignment, Limits, Program, scenario

PROG = "barrier"
LIMITS = Limits(wall_s=30)


def _barrier(ctx: ScenarioContext, n: int | None = None, timeout: float = 20) -> Proc:
    p = ctx.spawn(PROG, *([str(n)] if n is not None else []))
    code = ctx.wait(p, timeout=timeout, why=f"barrier {n or ''}".strip())
    ctx.check(code == 0, f"barrier should exit 0 once every child is released, it exited {code}", p)
    return p


def _children(ctx: ScenarioContext, p: Proc) -> set[int]:
    """The processes of this run (not an earlier one's) that called myreceive."""
    calls = ctx.sandbox.trace[p.trace_start :]
    return {e.pid for e in calls if e.syscall == "myreceive" and e.pid != p.pid}


def _lines_of(p: Proc, pid: int) -> list[int]:
    """Indexes of the output lines that mention `pid` as a word."""
    pattern = re.compile(rf"\b{pid}\b")
    return [i for i, line in enumerate(p.lines()) if pattern.search(line)]


def completes(ctx: ScenarioContext) -> None:
    """Barrier 5 exits 0."""
    _barrier(ctx, 5)


def logs_before_and_after(ctx: ScenarioContext) -> None:
    """Each child logs its pid before blocking and after release."""
    p = _barrier(ctx, 5)
    kids = _children(ctx, p)
    ctx.check(len(kids) >= 4, f"expected 5 children calling myreceive, saw {len(kids)}", p)
    for pid in sorted(kids):
        ctx.check(
            len(_lines_of(p, pid)) >= 2,
            f"child {pid} should print a line with its pid before blocking and after release",
            p,
        )


def nobody_released_early(ctx: ScenarioContext) -> None:
    """No child is released before all have arrived."""
    p = _barrier(ctx, 5)
    kids = sorted(_children(ctx, p))
    firsts = [_lines_of(p, pid)[0] for pid in kids if _lines_of(p, pid)]
    lasts = [_lines_of(p, pid)[-1] for pid in kids if len(_lines_of(p, pid)) >= 2]
    ctx.check(len(lasts) == len(kids) > 0, "every child should log before and after", p)
    ctx.check(
        max(firsts) < min(lasts),
        "a child printed its release line before every child had arrived",
        p,
    )


def really_blocks(ctx: ScenarioContext) -> None:
    """Children sleep in myreceive (trace)."""
    p = _barrier(ctx, 5)
    slept = [e for e in ctx.events(None, "myreceive") if e.result is None]
    ctx.check(bool(slept), "the children should sleep in myreceive (trace), not spin", p)


def queued_mode(ctx: ScenarioContext) -> None:
    """Works when sends are queued."""
    _barrier(ctx, 5)


def other_sizes(ctx: ScenarioContext) -> None:
    """Barrier 3 and barrier 8 work."""
    for n in (3, 8):
        p = _barrier(ctx, n)
        kids = len(_children(ctx, p))
        ctx.check(kids == n, f"barrier {n} should fork {n} children; {kids} took part", p)


def waits_for_children(ctx: ScenarioContext) -> None:
    """The parent waits for every child."""
    p = _barrier(ctx, 5)
    kids = _children(ctx, p)
    released = [pid for pid in kids if len(_lines_of(p, pid)) >= 2]
    ctx.check(
        len(released) == len(kids),
        "barrier exited before all its children were released and had logged",
        p,
    )


def no_bad_calls(ctx: ScenarioContext) -> None:
    """No failing mailbox calls, no busy waiting (trace)."""
    p = _barrier(ctx, 5)
    bad = [e for e in ctx.events(None) if e.errno in ("EFAULT", "EINVAL", "ESRCH")]
    ctx.check(
        not bad,
        f"{len(bad)} mailbox calls failed (first: {bad[0].syscall}({bad[0].args}) {bad[0].errno})"
        if bad
        else "",
        p,
    )
    busy = len(ctx.events(None, "myreceive"))
    ctx.check(busy < 200, f"{busy} myreceive calls for 5 children: the barrier busy-waits", p)


ASSIGNMENT = Assignment(
    name="mailbox",
    title="Interprocess communication via a mailbox (mysend / myreceive)",
    programs=(Program(PROG, "barrier.c"),),
    devices=("mailbox,mode=rendezvous",),
    module_sources=("*.patch", "mailbox.c"),
    scenarios=(
        scenario(20, completes, (PROG,), LIMITS),
        scenario(15, logs_before_and_after, (PROG,), LIMITS),
        scenario(15, nobody_released_early, (PROG,), LIMITS),
        scenario(10, really_blocks, (PROG,), LIMITS),
        scenario(10, queued_mode, (PROG,), LIMITS, devices=("mailbox,mode=queued,receive=block",)),
        scenario(10, other_sizes, (PROG,), LIMITS),
        scenario(10, waits_for_children, (PROG,), LIMITS),
        scenario(10, no_bad_calls, (PROG,), LIMITS),
    ),
)
