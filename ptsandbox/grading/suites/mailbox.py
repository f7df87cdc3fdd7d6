"""The mailbox syscalls (seeds/mailbox.txt): the text's barrier of forked children.

`barrier` forks children that meet at a barrier built on mysend/myreceive.
The text says the processes "can print a log message right before and right
after they block (perhaps with their PID)": pids are not required, so every
order is judged from the syscall trace (who called myreceive, when each
child's wait began and when it was released), never from the log's wording.
The text fixes no `barrier N` argument: sizes are varied only for a program
that takes one (it forks N children when asked for N).
"""

from __future__ import annotations

import time

from ...api import Proc
from ...syscalls import TraceEvent
from ..context import ScenarioContext
from ..model import Assignment, Limits, Program, scenario

PROG = "barrier"
LIMITS = Limits(wall_s=30)


def _exits(ctx: ScenarioContext) -> dict[int, float]:
    """Exit time of every traced process from now on (pid -> monotonic time)."""
    seen: dict[int, float] = {}

    def hook(thread: object, status: int) -> None:
        tid, tgid = getattr(thread, "tid", 0), getattr(thread, "tgid", 0)
        if tid == tgid:
            seen[tgid] = time.monotonic()

    ctx.sandbox.sup.exit_hooks.append(hook)
    return seen


def _barrier(ctx: ScenarioContext, n: int | None = None, timeout: float = 20) -> Proc:
    p = ctx.spawn(PROG, *([str(n)] if n is not None else []))
    code = ctx.wait(p, timeout=timeout, why=f"barrier {n or ''}".strip())
    ctx.check(code == 0, f"barrier should exit 0 once every child is released, it exited {code}", p)
    return p


def _calls(ctx: ScenarioContext, p: Proc) -> list[TraceEvent]:
    """The mailbox calls of this run (not an earlier one's)."""
    return [e for e in ctx.sandbox.trace[p.trace_start :] if e.syscall in ("mysend", "myreceive")]


def _children(ctx: ScenarioContext, p: Proc) -> set[int]:
    """The processes of this run that called myreceive (the barrier's members)."""
    return {e.pid for e in _calls(ctx, p) if e.syscall == "myreceive" and e.pid != p.pid}


def _released_at(calls: list[TraceEvent], pid: int) -> float | None:
    """When pid's last successful myreceive returned (its release)."""
    done = [e.time for e in calls if e.pid == pid and e.syscall == "myreceive" and e.result]
    return max(done) if done else None


def completes(ctx: ScenarioContext) -> None:
    """Barrier 5 exits 0."""
    _barrier(ctx, 5)


def logs_before_and_after(ctx: ScenarioContext) -> None:
    """Each child logs a line before blocking and one after release."""
    p = _barrier(ctx, 5)
    kids = _children(ctx, p)
    ctx.check(len(kids) >= 2, f"expected the children to call myreceive, saw {len(kids)}", p)
    lines = [line for line in p.lines() if line.strip()]
    ctx.check(
        len(lines) >= 2 * len(kids),
        f"{len(kids)} children took part, so the log should have at least {2 * len(kids)} "
        f"lines (one before blocking and one after release each); it has {len(lines)}",
        p,
    )


def nobody_released_early(ctx: ScenarioContext) -> None:
    """No child is released before all have arrived (trace)."""
    p = _barrier(ctx, 5)
    calls = _calls(ctx, p)
    kids = sorted(_children(ctx, p))
    ctx.check(bool(kids), "the children should call myreceive", p)
    arrived = {pid: min(e.time for e in calls if e.pid == pid) for pid in kids}
    released = {pid: _released_at(calls, pid) for pid in kids}
    never = [pid for pid, t in released.items() if t is None]
    ctx.check(not never, f"child(ren) {never} never returned from myreceive with a message", p)
    last_arrival = max(arrived.values())
    early = [pid for pid, t in released.items() if t is not None and t < last_arrival]
    late = max(arrived, key=lambda pid: arrived[pid])
    ctx.check(
        not early,
        f"child(ren) {early} returned from myreceive before child {late} had made its first "
        "mailbox call (arrived)",
        p,
    )


def really_blocks(ctx: ScenarioContext) -> None:
    """Children sleep in myreceive (trace)."""
    p = _barrier(ctx, 5)
    slept = [e for e in _calls(ctx, p) if e.syscall == "myreceive" and e.result is None]
    ctx.check(bool(slept), "the children should sleep in myreceive (trace), not spin", p)


def queued_mode(ctx: ScenarioContext) -> None:
    """Works when sends are queued."""
    _barrier(ctx, 5)


def other_sizes(ctx: ScenarioContext) -> None:
    """Barrier 3 and barrier 8 work (for a program that takes N)."""
    p3 = _barrier(ctx, 3)
    k3 = len(_children(ctx, p3))
    if k3 != 3:  # it may take no N (the text has none): then its own size is right
        own = ctx.spawn(PROG)
        ctx.wait(own, why="barrier (no argument)")
        ctx.check(
            len(_children(ctx, own)) == k3,
            f"barrier 3 should fork 3 children; {k3} took part (and `barrier` alone "
            f"{len(_children(ctx, own))}, so it does read its argument)",
            p3,
        )
        return
    p8 = _barrier(ctx, 8)
    k8 = len(_children(ctx, p8))
    ctx.check(k8 == 8, f"barrier 8 should fork 8 children; {k8} took part", p8)


def waits_for_children(ctx: ScenarioContext) -> None:
    """The parent exits only after every child (trace)."""
    exits = _exits(ctx)
    p = _barrier(ctx, 5)
    kids = _children(ctx, p)
    ctx.sandbox.serve_until(lambda: p.pid in exits, ctx.remaining(5))
    parent_end = exits.get(p.pid, float("inf"))
    running = sorted(pid for pid in kids if exits.get(pid, float("inf")) > parent_end)
    ctx.check(
        not running,
        f"barrier exited while child(ren) {running} were still running: it should wait for them",
        p,
    )


def no_bad_calls(ctx: ScenarioContext) -> None:
    """No failing mailbox calls, no busy waiting (trace)."""
    p = _barrier(ctx, 5)
    calls = _calls(ctx, p)
    bad = [e for e in calls if e.errno in ("EFAULT", "EINVAL", "ESRCH")]
    ctx.check(
        not bad,
        f"{len(bad)} mailbox calls failed (first: {bad[0].syscall}({bad[0].args}) {bad[0].errno})"
        if bad
        else "",
        p,
    )
    busy = len([e for e in calls if e.syscall == "myreceive"])
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
