"""The chat room (seeds/chatroom.txt): `joinchat NAME`, two threads, Bye! leaves."""

from __future__ import annotations

import signal

from ...api import Proc
from ...devices.chatroom import CHATROOM_IOC_SET_NAME
from ..context import ScenarioContext
from ..model import Assignment, Limits, Program, Scenario, module_scenario, scenario
from . import kmodule

PROG = "joinchat"


def members(ctx: ScenarioContext) -> int:
    """Members in the room: the reference device's, or the student's module's open files."""
    if ctx.module is not None:
        return int(ctx.module.snapshot()["open_files"])
    return len(ctx.sandbox.devices["chatroom"].snapshot()["members"])


def _join(ctx: ScenarioContext, *names: str) -> list[Proc]:
    """Start members one after another, each once the previous one has opened the device."""
    procs = []
    for name in names:
        p = ctx.spawn(PROG, name, label=name)
        procs.append(p)
        want = len(procs)

        def joined(want: int = want) -> bool:
            return members(ctx) >= want

        wait = ctx.remaining(10)
        if not ctx.sandbox.serve_until(joined, wait):
            ctx.fail(f"`joinchat {name}` did not open /dev/chatroom within {wait:.1f}s", p)
    return procs


def _bye(ctx: ScenarioContext, *procs: Proc) -> None:
    for p in procs:
        if not p.exited:
            p.sendline("Bye!")
    for p in procs:
        ctx.wait(p, why="after Bye!")


def two_members_exchange(ctx: ScenarioContext) -> None:
    """Two members chat both ways."""
    p1, p2 = _join(ctx, "P1", "P2")
    p1.sendline("Hello P2!")
    ctx.expect(p2, "Hello P2!", why="P1 wrote a line")
    p2.sendline("Hello back to you P1!")
    ctx.expect(p1, "Hello back to you P1!", why="P2 replied")
    _bye(ctx, p1, p2)


def broadcast_to_all_others(ctx: ScenarioContext) -> None:
    """A message reaches every other member."""
    p1, p2, p3 = _join(ctx, "P1", "P2", "P3")
    p3.sendline("Anyone here?")
    ctx.expect(p1, "Anyone here?", why="P3 wrote to the room")
    ctx.expect(p2, "Anyone here?", why="P3 wrote to the room")
    _bye(ctx, p1, p2, p3)


def bye_leaves_the_room(ctx: ScenarioContext) -> None:
    """Bye! exits 0 and the others see NAME left."""
    p1, p2, p3 = _join(ctx, "P1", "P2", "P3")
    p1.sendline("Bye!")
    code = ctx.wait(p1, timeout=5, why="P1 typed Bye!", close_stdin=False)
    ctx.check(code == 0, f"joinchat should exit 0 after Bye!, it exited {code}")
    ctx.expect(p2, "P1 left", why="P1 typed Bye!")
    ctx.expect(p3, "P1 left", why="P1 typed Bye!")
    _bye(ctx, p2, p3)


def messages_never_mix(ctx: ScenarioContext) -> None:
    """3 x 50 concurrent lines arrive whole and in order."""
    names = ["A", "B", "C"]
    procs = dict(zip(names, _join(ctx, *names), strict=True))
    count = 50
    for n, p in procs.items():
        p.send("".join(f"{n} line {i:03d} " + "x" * 30 + "\n" for i in range(count)))
    for n, p in procs.items():
        ctx.expect_all(
            p,
            [f"{o} line {count - 1:03d}" for o in names if o != n],
            timeout=30,
            why="three members each sent 50 lines at once",
        )
    for n, p in procs.items():
        for o in names:
            if o == n:
                continue
            got = [line for line in p.lines() if f"{o} line " in line]
            want = [f"{o} line {i:03d} " + "x" * 30 for i in range(count)]
            whole = [line[line.index(f"{o} line ") :] for line in got]
            if whole != want:
                bad = next((g for g, w in zip(whole, want, strict=False) if g != w), None)
                ctx.fail(
                    f"{n} did not get {o}'s 50 lines whole, one per line, in order: "
                    f"got {len(got)} lines; first wrong one: {bad!r}"
                )
    _bye(ctx, *procs.values())


def long_line_arrives_whole(ctx: ScenarioContext) -> None:
    """A 900-character line arrives intact."""
    p1, p2 = _join(ctx, "P1", "P2")
    text = "".join(chr(ord("a") + i % 26) for i in range(900))
    p1.sendline(text)
    ctx.expect(p2, text, why="P1 sent a 900-character line")
    _bye(ctx, p1, p2)


def closes_the_device(ctx: ScenarioContext) -> None:
    """Bye! closes the device (trace)."""
    p1, p2 = _join(ctx, "P1", "P2")
    p1.sendline("Bye!")
    ctx.wait(p1, why="P1 typed Bye!", close_stdin=False)
    closes = [e for e in ctx.events(p1, "close") if "/dev/chatroom" in e.args]
    ctx.check(bool(closes), "joinchat should close() the device before exiting on Bye!", p1)
    _bye(ctx, p2)


def names_members_with_the_ioctl(ctx: ScenarioContext) -> None:
    """The name is set by ioctl before any write."""
    p1, p2 = _join(ctx, "P1", "Pat")
    ctx.expect(p1, "Pat joined the room", why="a member joined as Pat (name set by ioctl)")
    first_ioctl = next((e for e in ctx.events(p2, "ioctl")), None)
    first_write = next((e for e in ctx.events(p2, "write")), None)
    ctx.check(first_ioctl is not None, "the client should name itself with the ioctl", p2)
    if first_write is not None and first_ioctl is not None:
        ctx.check(first_ioctl.time < first_write.time, "the ioctl should come first", p2)
    _bye(ctx, p1, p2)


def idle_client_blocks_in_read(ctx: ScenarioContext) -> None:
    """An idle client sleeps in read (no busy-polling)."""
    (p1,) = _join(ctx, "P1")
    ctx.serve(0.5)
    before = len(ctx.events(p1, "read"))
    idle = ctx.serve(1.0)
    reads = len(ctx.events(p1, "read")) - before
    ctx.check(
        reads <= 5,
        f"an idle client should sleep in read(), not poll: {reads} reads of the device in "
        f"{idle:.1f} idle seconds",
        p1,
    )
    _bye(ctx, p1)


def survives_stop_and_continue(ctx: ScenarioContext) -> None:
    """SIGSTOP/SIGCONT (EINTR) loses nothing."""
    p1, p2 = _join(ctx, "P1", "P2")
    p2.kill(signal.SIGSTOP)
    p2.wait_stopped(ctx.remaining(5))
    p1.sendline("while you were stopped")
    p2.kill(signal.SIGCONT)
    ctx.expect(p2, "while you were stopped", why="after SIGSTOP and SIGCONT (EINTR handling)")
    p1.sendline("and after")
    ctx.expect(p2, "and after", why="after SIGSTOP and SIGCONT")
    _bye(ctx, p1, p2)


def end_of_input_exits(ctx: ScenarioContext) -> None:
    """End of stdin exits 0."""
    (p1,) = _join(ctx, "P1")
    p1.close_stdin()
    code = ctx.wait(p1, timeout=5, why="stdin reached end of file")
    ctx.check(code == 0, f"joinchat should exit 0 at end of input, it exited {code}")


def writes_are_text_only(ctx: ScenarioContext) -> None:
    """A message is written without NUL or newline (trace)."""
    p1, p2 = _join(ctx, "P1", "P2")
    p1.sendline("count me")
    ctx.expect(p2, "count me")
    writes = ctx.events(p1, "write")
    ctx.check(bool(writes), "no write() to the device was seen", p1)
    sizes = [e.args.rsplit(", ", 1)[-1] for e in writes]
    ctx.check(
        "8" in sizes,
        f"the message 'count me' should be written as its 8 characters (no NUL, no newline); "
        f"write sizes were {sizes}",
        p1,
    )
    _bye(ctx, p1, p2)


# -- the student's module (module scenarios) -----------------------------------


def bad_user_pointers(ctx: ScenarioContext) -> None:
    """Bad user pointers (NULL, unmapped) to ioctl, write and read fail, with no report."""
    kmodule.probe(
        ctx, "ioctl, write and read with NULL and unmapped buffers",
        "badptr", "chat", _path(ctx), str(CHATROOM_IOC_SET_NAME),
    )  # fmt: skip


def concurrent_openers(ctx: ScenarioContext) -> None:
    """8 processes at once join and leave 20 times each."""
    kmodule.probe(ctx, "8 processes opening and closing at once", "concurrent", "open", "8",
                  _path(ctx))  # fmt: skip


def many_members(ctx: ScenarioContext) -> None:
    """12 members: a message reaches the 11 others."""
    names = [f"M{i:02d}" for i in range(12)]
    procs = _join(ctx, *names)
    procs[0].sendline("hello to the twelve")
    for p, name in zip(procs[1:], names[1:], strict=True):
        ctx.expect(p, "hello to the twelve", why=f"M00 wrote to a room of 12 ({name} waits)")
    _bye(ctx, *procs)


def _path(ctx: ScenarioContext) -> str:
    """The room's node: the one the module made (device_create, misc_register)."""
    module = ctx.module
    paths = module.node_paths() if module is not None else []
    if not paths:
        ctx.fail("the module made no node at init (device_create or misc_register)")
    return "/dev/chatroom" if "/dev/chatroom" in paths else paths[0]


def _module_scenarios() -> tuple[Scenario, ...]:
    reference = (
        (15, two_members_exchange),
        (10, broadcast_to_all_others),
        (10, bye_leaves_the_room),
        (10, messages_never_mix),
        (5, long_line_arrives_whole),
        (10, names_members_with_the_ioctl),
        (10, idle_client_blocks_in_read),
        (5, survives_stop_and_continue),
    )
    return (
        *(module_scenario(points, run, "reference", (PROG,), Limits(wall_s=45))
          for points, run in reference),
        module_scenario(10, two_members_exchange, "student", (PROG,)),
        module_scenario(5, bad_user_pointers, "probe", (kmodule.PROBE,)),
        module_scenario(5, concurrent_openers, "probe", (kmodule.PROBE,)),
        module_scenario(5, many_members, "reference", (PROG,), name="many_members"),
        module_scenario(5, kmodule.rmmod_with_nothing_open, "probe"),
    )  # fmt: skip


ASSIGNMENT = Assignment(
    name="chatroom",
    title="Chatroom using a character device",
    programs=(Program(PROG, "joinchat.c"),),
    devices=("chatroom",),
    module_sources=("*module*.c", "chatroom.c"),
    scenarios=(
        scenario(15, two_members_exchange, (PROG,)),
        scenario(10, broadcast_to_all_others, (PROG,)),
        scenario(10, bye_leaves_the_room, (PROG,)),
        scenario(
            15,
            messages_never_mix,
            (PROG,),
            Limits(wall_s=45),
            ("chatroom,full=block,queue_len=16",),
        ),
        scenario(5, long_line_arrives_whole, (PROG,)),
        scenario(10, closes_the_device, (PROG,)),
        scenario(10, names_members_with_the_ioctl, (PROG,)),
        scenario(10, idle_client_blocks_in_read, (PROG,)),
        scenario(5, survives_stop_and_continue, (PROG,)),
        scenario(5, end_of_input_exits, (PROG,)),
        scenario(5, writes_are_text_only, (PROG,)),
    ),
    module_scenarios=_module_scenarios(),
    reference_clients=(Program(PROG, "joinchat.c"),),
)
