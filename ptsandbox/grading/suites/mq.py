"""/dev/mq (seeds/mq_readme.txt): the interactive `client` of the original project.

The client takes commands on stdin: /reg NAME, /unr, /msg DEST TEXT, /all TEXT
are written to the device; /read reads one message; /exit leaves. Students'
wording differs, so checks look for the message text, and for the client still
answering after an error, rather than for exact lines. The README accepts
"no rich user-space error feedback: errors are logged to the kernel", so a
refused command need not print anything: the trace shows the device refused
it, and the client must survive and keep working.
"""

from __future__ import annotations

from collections.abc import Callable

from ...api import Proc
from ..context import ScenarioContext
from ..course import Conventions, SuiteInfo, current
from ..model import Assignment, Program, module_scenario, scenario
from . import kmodule

PROG = "client"
CONV = Conventions(
    invoke={"client": ()},
    commands={
        "register": "/reg {name}",
        "unregister": "/unr",
        "send": "/msg {dest} {text}",
        "broadcast": "/all {text}",
        "read": "/read",
        "exit": "/exit",
    },
    programs={"client": PROG},
)
OP_FIELDS = {"register": ("name",), "send": ("dest", "text"), "broadcast": ("text",)}


def _c() -> Conventions:
    """The running course's commands (grading/course.py), or the original project's."""
    return current(CONV)


def _clients(ctx: ScenarioContext, *names: str) -> list[Proc]:
    procs = []
    for name in names:
        p = ctx.spawn(PROG, *_c().argv("client"), label=name)
        procs.append(p)
    for p, name in zip(procs, names, strict=True):
        p.sendline(_c().command("register", name=name))
    want = set(names)

    def registered() -> bool:
        if ctx.module is not None:  # the module's state is its own: the trace says
            return all(
                _sent(ctx, p, _c().command("register", name=n))()
                for p, n in zip(procs, names, strict=True)
            )
        got = {b["name"] for b in ctx.sandbox.devices["mq"].snapshot()["registered"]}
        return want <= got

    wait = ctx.remaining(10)
    if not ctx.sandbox.serve_until(registered, wait):
        ctx.fail(
            f"the clients did not register {sorted(want)} with /reg NAME within {wait:.1f}s",
            procs[0],
        )
    return procs


def _read(ctx: ScenarioContext, p: Proc, text: str, why: str) -> None:
    p.sendline(_c().command("read"))
    ctx.expect(p, text, why=why)


def _alive(ctx: ScenarioContext, p: Proc, name: str) -> None:
    """The client still serves commands: a message sent to it can be read."""
    helper = ctx.spawn(PROG, *_c().argv("client"), label="probe")
    register = _c().command("register", name="probe")
    helper.sendline(register)
    if ctx.module is not None:
        ctx.sandbox.serve_until(_sent(ctx, helper, register), ctx.remaining(5))
    else:
        ctx.sandbox.serve_until(
            lambda: any(
                b["name"] == "probe" for b in ctx.sandbox.devices["mq"].snapshot()["registered"]
            ),
            ctx.remaining(5),
        )
    _send(ctx, helper, name, "still-there")
    _read(ctx, p, "still-there", f"after that, a message sent to {name} should still be read")
    helper.sendline(_c().command("exit"))


def _refused_and_alive(ctx: ScenarioContext, p: Proc, name: str, command: str, why: str) -> None:
    """`command` reached the device and was refused (trace); the client lives on."""
    start = len(ctx.events(p))
    p.sendline(command)

    def refused() -> bool:
        return any(
            e.syscall == "write" and e.errno and " ".join(command.split()[:2]) in e.args
            for e in ctx.events(p)[start:]
        )

    ok = ctx.sandbox.serve_until(lambda: refused() or p.exited, ctx.remaining(5))
    ctx.check(not p.exited, f"{why}: a refused command should not end the client", p)
    ctx.check(ok, f"{why}: the client should write {command!r} to the device (trace)", p)
    _alive(ctx, p, name)


def _sent(ctx: ScenarioContext, p: Proc, command: str, n: int = 1) -> Callable[[], bool]:
    """Has p written `command` (its first two words) to the device n times, successfully?"""
    head = " ".join(command.split()[:2])

    def done() -> bool:
        writes = ctx.events(p, "write")
        return sum(e.result is not None and not e.errno and head in e.args for e in writes) >= n

    return done


def _send(ctx: ScenarioContext, sender: Proc, dest: str, text: str) -> None:
    """sender types /msg DEST TEXT; wait until the message is queued for dest (the
    reference device's state; the student's module's state is its own, so there:
    until the sender's write returned)."""
    command = _c().command("send", dest=dest, text=text)
    sender.sendline(command)
    if ctx.module is not None:
        ctx.sandbox.serve_until(_sent(ctx, sender, command), ctx.remaining(5))
    else:
        ctx.sandbox.serve_until(lambda: _queued(ctx, dest) > 0, ctx.remaining(5))


def _queued(ctx: ScenarioContext, name: str) -> int:
    for b in ctx.sandbox.devices["mq"].snapshot()["registered"]:
        if b["name"] == name:
            return int(b["queued"])
    return 0


def _exit(ctx: ScenarioContext, *procs: Proc) -> None:
    for p in procs:
        if not p.exited:
            p.sendline(_c().command("exit"))
    for p in procs:
        ctx.wait(p, why="after /exit")


def unicast(ctx: ScenarioContext) -> None:
    """/msg reaches its destination with the sender's name."""
    a, b = _clients(ctx, "alice", "bob")
    _send(ctx, a, "bob", "hi bob")
    _read(ctx, b, "hi bob", "alice sent /msg bob hi bob")
    ctx.check("alice" in b.output, "the message should say who sent it (alice)", b)
    _exit(ctx, a, b)


def broadcast(ctx: ScenarioContext) -> None:
    """/all reaches every other client."""
    a, b, c = _clients(ctx, "alice", "bob", "carol")
    command = _c().command("broadcast", text="hello everyone")
    c.sendline(command)
    ctx.sandbox.serve_until(
        _sent(ctx, c, command)
        if ctx.module is not None
        else lambda: _queued(ctx, "alice") > 0 and _queued(ctx, "bob") > 0,
        ctx.remaining(5),
    )
    _read(ctx, a, "hello everyone", "carol sent /all")
    _read(ctx, b, "hello everyone", "carol sent /all")
    _exit(ctx, a, b, c)


def read_empty_queue(ctx: ScenarioContext) -> None:
    """/read of an empty queue says so and the client goes on."""
    (a,) = _clients(ctx, "alice")
    a.sendline(_c().command("read"))

    def refused() -> list:  # type: ignore[type-arg]
        return [e for e in ctx.events(a, "read") if e.errno in ("EAGAIN", "ENOENT")]

    ctx.sandbox.serve_until(lambda: bool(refused()) or a.exited, ctx.remaining(5))
    ctx.check(bool(refused()), "/read should read the device (and get EAGAIN: empty queue)", a)
    mark = ctx.sandbox.output_at(refused()[0])  # what it had printed before that read
    ctx.sandbox.serve_until(lambda: len(a.output) > mark or a.exited, ctx.remaining(5))
    ctx.check(not a.exited, "/read of an empty queue should not end the client", a)
    ctx.check(len(a.output) > mark, "/read of an empty queue should print something", a)
    _alive(ctx, a, "alice")
    _exit(ctx, a)


def unknown_destination(ctx: ScenarioContext) -> None:
    """/msg to an unknown name is refused and the client goes on."""
    (a,) = _clients(ctx, "alice")
    _refused_and_alive(
        ctx,
        a,
        "alice",
        _c().command("send", dest="nobody", text="are you there"),
        "/msg to an unknown name",
    )
    _exit(ctx, a)


def overflow_keeps_newest(ctx: ScenarioContext) -> None:
    """A full queue keeps the newest messages."""
    a, b = _clients(ctx, "alice", "bob")
    for i in range(5):
        a.sendline(_c().command("send", dest="bob", text=f"number-{i}"))
    ctx.sandbox.serve_until(
        _sent(ctx, a, _c().command("send", dest="bob", text="x"), 5)
        if ctx.module is not None
        else lambda: ctx.sandbox.devices["mq"].snapshot()["overwritten"] >= 2,
        ctx.remaining(5),
    )
    for i in (2, 3, 4):
        _read(ctx, b, f"number-{i}", "QUEUE_LEN=3 after five messages")
    ctx.check("number-0" not in b.output, "the oldest messages should have been overwritten", b)
    _exit(ctx, a, b)


def unregister(ctx: ScenarioContext) -> None:
    """After /unr, messages to that name are refused; the client goes on."""
    a, b = _clients(ctx, "alice", "bob")
    b.sendline(_c().command("unregister"))
    ctx.sandbox.serve_until(
        _sent(ctx, b, _c().command("unregister"))
        if ctx.module is not None
        else lambda: (
            _queued(ctx, "bob") == 0
            and not any(
                r["name"] == "bob" for r in ctx.sandbox.devices["mq"].snapshot()["registered"]
            )
        ),
        ctx.remaining(5),
    )
    _refused_and_alive(
        ctx,
        a,
        "alice",
        _c().command("send", dest="bob", text="are you gone"),
        "/msg to a name that unregistered",
    )
    _exit(ctx, a, b)


def exit_closes_device(ctx: ScenarioContext) -> None:
    """/exit exits 0 and closes the device (trace)."""
    (a,) = _clients(ctx, "alice")
    a.sendline(_c().command("exit"))
    code = ctx.wait(a, why="/exit", close_stdin=False)
    ctx.check(code == 0, f"/exit should exit 0, exited {code}")
    ctx.check(bool(ctx.events(a, "close")), "the client should close() /dev/mq on /exit", a)


def no_busy_poll(ctx: ScenarioContext) -> None:
    """An idle client does not keep reading."""
    (a,) = _clients(ctx, "alice")
    ctx.serve(0.3)
    before = len(ctx.events(a, "read"))
    idle = ctx.serve(1.0)
    reads = len(ctx.events(a, "read")) - before
    ctx.check(
        reads <= 5,
        f"an idle client should not keep reading the device: {reads} reads in {idle:.1f} "
        "idle seconds",
        a,
    )
    _exit(ctx, a)


def long_message(ctx: ScenarioContext) -> None:
    """A 200-character message arrives intact."""
    a, b = _clients(ctx, "alice", "bob")
    text = "".join(chr(ord("a") + i % 26) for i in range(200))
    _send(ctx, a, "bob", text)
    _read(ctx, b, text, "a 200-character message")
    _exit(ctx, a, b)


# -- the student's module (module scenarios) -----------------------------------


def bad_user_pointers(ctx: ScenarioContext) -> None:
    """Bad user pointers (NULL, unmapped) to write and read fail, with no report."""
    kmodule.probe(ctx, "write and read with NULL and unmapped buffers", "badptr", "mq", _path(ctx))


def concurrent_openers(ctx: ScenarioContext) -> None:
    """8 processes at once open and close /dev/mq 20 times each."""
    kmodule.probe(ctx, "8 processes opening and closing at once", "concurrent", "open", "8",
                  _path(ctx))  # fmt: skip


def many_members(ctx: ScenarioContext) -> None:
    """8 clients (MAX_DEVICES' default): /all reaches the 7 others."""
    names = [f"user{i}" for i in range(8)]
    procs = _clients(ctx, *names)
    command = _c().command("broadcast", text="hello all eight")
    procs[0].sendline(command)
    ctx.sandbox.serve_until(_sent(ctx, procs[0], command), ctx.remaining(5))
    for p, name in zip(procs[1:], names[1:], strict=True):
        _read(ctx, p, "hello all eight", f"user0 sent /all to 8 clients ({name} reads)")
    _exit(ctx, *procs)


def _path(ctx: ScenarioContext) -> str:
    module = ctx.module
    paths = module.node_paths() if module is not None else []
    if not paths:
        ctx.fail("the module made no node at init (misc_register or device_create)")
    return "/dev/mq" if "/dev/mq" in paths else paths[0]


INFO = SuiteInfo(CONV, OP_FIELDS)

ASSIGNMENT = Assignment(
    name="mq",
    title="Messaging through /dev/mq",
    programs=(Program(PROG, "client.c"),),
    devices=("mq,QUEUE_LEN=3",),
    module_sources=("mq_driver.c",),
    scenarios=(
        scenario(15, unicast, (PROG,)),
        scenario(10, broadcast, (PROG,)),
        scenario(10, read_empty_queue, (PROG,)),
        scenario(10, unknown_destination, (PROG,)),
        scenario(10, overflow_keeps_newest, (PROG,)),
        scenario(5, unregister, (PROG,)),
        scenario(10, exit_closes_device, (PROG,)),
        scenario(10, no_busy_poll, (PROG,)),
        scenario(5, long_message, (PROG,)),
    ),
    module_scenarios=(
        *(
            module_scenario(points, run, "reference", (PROG,))
            for points, run in (
                (15, unicast),
                (10, broadcast),
                (10, read_empty_queue),
                (10, unknown_destination),
                (10, overflow_keeps_newest),
                (5, unregister),
                (5, long_message),
            )
        ),
        module_scenario(10, unicast, "student", (PROG,)),
        module_scenario(5, bad_user_pointers, "probe", (kmodule.PROBE,)),
        module_scenario(5, concurrent_openers, "probe", (kmodule.PROBE,)),
        module_scenario(5, many_members, "reference", (PROG,), name="many_members"),
        module_scenario(5, kmodule.rmmod_with_nothing_open, "probe"),
    ),
    module_params=("QUEUE_LEN=3",),
    reference_clients=(Program(PROG, "mq_client.c"),),
)
