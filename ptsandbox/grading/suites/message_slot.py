"""message_slot, both profiles: `message_sender` and `message_reader` as the texts define them.

seed (seeds/message_slot.txt): `message_sender CHANNEL MESSAGE`, `message_reader
CHANNEL` on the fixed device file /dev/message_slot (made by the grader with mknod).
tau (the 2019+ variant): `message_sender DEVICE CHANNEL MESSAGE` prints nothing,
`message_reader DEVICE CHANNEL` prints only the message; errors exit non-zero
with a message on stderr.

Every argv, the node's path and the reader's expected output are conventions
(grading/course.py): a course file changes them without Python (2017's fixed
/dev/simple_message_slot, 2019's `message_sender DEV MODE CH MSG`, 2025's
`message_sender DEV CH CENSOR MSG`). The node is made with the major the
loaded driver registered, i.e. the course header's.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from ...api import Proc
from ...devices.message_slot import MessageSlot, Slot, iow
from ..context import ScenarioContext
from ..course import Conventions, SuiteInfo, current
from ..model import Assignment, Program, Scenario, module_scenario, scenario
from . import kmodule

SEND, READ = "message_sender", "message_reader"
_PROGRAMS = {"send": SEND, "read": READ}
_FIELDS = {"mode": "0", "censor": "0"}  # 2019's write mode, 2025's censorship flag
SEED_CONV = Conventions(
    invoke={"send": ("{channel}", "{message}"), "read": ("{channel}",)},
    nodes={"slot": "/dev/message_slot"},
    patterns={"reader_output": "{message}"},
    fields=_FIELDS,
    programs=_PROGRAMS,
)
TAU_CONV = Conventions(
    invoke={"send": ("{slot}", "{channel}", "{message}"), "read": ("{slot}", "{channel}")},
    nodes={"slot": "slot0"},  # made in the scenario's own directory
    patterns={"reader_output": r"\A{message}\Z"},  # exactly the message
    fields=_FIELDS,
    programs=_PROGRAMS,
)
# the {fields} the suite fills in itself, per operation / pattern
OP_FIELDS = {"send": ("channel", "message"), "read": ("channel",), "reader_output": ("message",)}


def _node(ctx: ScenarioContext, c: Conventions, minor: int = 0, path: str = "") -> str:
    """mknod with the major the loaded driver registered (the course header's, or
    the one the student's module registered)."""
    path = path or c.node("slot")
    major = ctx.device("message_slot").major_number
    if ctx.module is not None and not major:
        ctx.fail(f"module {ctx.module.name} registered no major number (register_chrdev)")
    if ctx.shell(f"mknod {path} c {major} {minor}") != 0:
        ctx.fail(f"the grader could not make {path} (mknod {path} c {major} {minor})")
    return path


def _spawn(
    ctx: ScenarioContext, c: Conventions, op: str, drop: int = 0, /, **values: object
) -> Proc:
    """Start the client of `op` with the course's argv (less its last `drop` arguments)."""
    argv = c.argv(op, **values)
    return ctx.spawn(c.program(op), *argv[: len(argv) - drop])


def _error_exit(p: Proc) -> str | None:
    """None if p exited with a non-zero status (any: exit(-1) is 255); else what it did."""
    status = p.status
    assert status is not None
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return None if os.WEXITSTATUS(status) != 0 else "exited 0"


def _run(ctx: ScenarioContext, c: Conventions, op: str, ok: bool = True, **values: object) -> str:
    """Run one client to its end; check that it succeeded (or failed cleanly)."""
    p = _spawn(ctx, c, op, **values)
    shown = ctx.name_of(p)
    code = ctx.wait(p, why=shown)
    if ok and code != 0:
        ctx.fail(f"`{shown}` should succeed, it exited {code}; stderr: {p.stderr[-200:]!r}", p)
    how = None if ok else _error_exit(p)
    if how is not None:
        ctx.fail(f"`{shown}` should report an error and exit non-zero; it {how}", p)
    return p.output


def _reads(c: Conventions, out: str, message: str) -> bool:
    """Is `out` what the course's reader prints for `message`?"""
    return c.matches("reader_output", out, message=message)


# -- seed ------------------------------------------------------------------------


def seed_send_then_read(ctx: ScenarioContext) -> None:
    """A message sent on a channel reads back."""
    c = current(SEED_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=1, message="hello slot")
    out = _run(ctx, c, "read", channel=1)
    ctx.check(_reads(c, out, "hello slot"), f"the reader should print 'hello slot', got {out!r}")


def seed_channels_are_independent(ctx: ScenarioContext) -> None:
    """Channels 0 and 3 hold their own messages."""
    c = current(SEED_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=0, message="zero here")
    _run(ctx, c, "send", channel=3, message="three here")
    out0, out3 = _run(ctx, c, "read", channel=0), _run(ctx, c, "read", channel=3)
    ctx.check(_reads(c, out0, "zero here") and "three" not in out0, f"channel 0 read {out0!r}")
    ctx.check(_reads(c, out3, "three here") and "zero" not in out3, f"channel 3 read {out3!r}")


def seed_overwrite(ctx: ScenarioContext) -> None:
    """A second send replaces the message."""
    c = current(SEED_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=2, message="first")
    _run(ctx, c, "send", channel=2, message="second")
    out = _run(ctx, c, "read", channel=2)
    ctx.check(
        _reads(c, out, "second") and "first" not in out, f"after two sends, channel 2 read {out!r}"
    )


def seed_reads_do_not_consume(ctx: ScenarioContext) -> None:
    """Reading twice gives the message twice."""
    c = current(SEED_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=1, message="keep me")
    for _ in range(2):
        out = _run(ctx, c, "read", channel=1)
        ctx.check(_reads(c, out, "keep me"), f"a second read should still see it, got {out!r}")


def seed_invalid_channel_sender_fails(ctx: ScenarioContext) -> None:
    """Channel 4: the sender prints an error and exits non-zero."""
    c = current(SEED_CONV)
    _node(ctx, c)
    p = _spawn(ctx, c, "send", channel=4, message="nope")
    ctx.wait(p)
    how = _error_exit(p)
    ctx.check(
        how is None, f"`{ctx.name_of(p)}` should exit non-zero (channel 4 is invalid); it {how}", p
    )
    ctx.check(bool((p.output + p.stderr).strip()), f"`{ctx.name_of(p)}` should print an error", p)


def seed_invalid_channel_reader_fails(ctx: ScenarioContext) -> None:
    """Channel 7: the reader exits non-zero."""
    c = current(SEED_CONV)
    _node(ctx, c)
    _run(ctx, c, "read", ok=False, channel=7)


def seed_usage_errors(ctx: ScenarioContext) -> None:
    """A missing argument: both exit non-zero."""
    c = current(SEED_CONV)
    _node(ctx, c)
    for op, values in (("send", {"channel": 1, "message": "x"}), ("read", {"channel": 1})):
        p = _spawn(ctx, c, op, 1, **values)
        ctx.wait(p)
        how = _error_exit(p)
        ctx.check(
            how is None,
            f"`{ctx.name_of(p)}` (an argument missing) should exit non-zero; it {how}",
            p,
        )


def channel_set_before_write(ctx: ScenarioContext, c: Conventions, **values: object) -> Proc:
    p = _spawn(ctx, c, "send", **values)
    ctx.wait(p)
    ioctl = next(iter(ctx.events(p, "ioctl")), None)
    write = next(iter(ctx.events(p, "write")), None)
    ctx.check(write is not None, "message_sender should write to the device", p)
    ctx.check(
        ioctl is not None and write is not None and ioctl.time < write.time,
        "message_sender should set the channel (ioctl) before it writes",
        p,
    )
    return p


def seed_channel_set_before_write(ctx: ScenarioContext) -> None:
    """The sender sets the channel before writing (trace)."""
    c = current(SEED_CONV)
    _node(ctx, c)
    channel_set_before_write(ctx, c, channel=1, message="ordered")


def closes_device(ctx: ScenarioContext, c: Conventions) -> None:
    for op, values in (("send", {"channel": 1, "message": "bye"}), ("read", {"channel": 1})):
        p = _spawn(ctx, c, op, **values)
        ctx.wait(p)
        ctx.check(bool(ctx.events(p, "close")), f"{c.program(op)} should close() the device", p)


def seed_closes_device(ctx: ScenarioContext) -> None:
    """Both programs close the device (trace)."""
    c = current(SEED_CONV)
    _node(ctx, c)
    closes_device(ctx, c)


def seed_long_message_truncated(ctx: ScenarioContext) -> None:
    """200 characters read back as the first 128."""
    c = current(SEED_CONV)
    _node(ctx, c)
    text = "".join(chr(ord("a") + i % 26) for i in range(200))
    _run(ctx, c, "send", channel=1, message=text)
    out = _run(ctx, c, "read", channel=1)
    ctx.check(
        text[:128] in out,
        f"a 200-character message should read back as its first 128 characters; got {out[:160]!r}",
    )
    ctx.check(text[:129] not in out, "the reader printed more than the slot's 128 bytes")


# -- tau -------------------------------------------------------------------------


def tau_send_then_read(ctx: ScenarioContext) -> None:
    """The reader prints exactly the message."""
    c = current(TAU_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=5, message="hello tau")
    out = _run(ctx, c, "read", channel=5)
    ctx.check(_reads(c, out, "hello tau"), f"the reader should print the message, got {out!r}")


def tau_big_channel_id(ctx: ScenarioContext) -> None:
    """Channel id 2^20+2 works and is its own channel."""
    c = current(TAU_CONV)
    _node(ctx, c)
    big = (1 << 20) + 2
    _run(ctx, c, "send", channel=big, message="big id")
    out = _run(ctx, c, "read", channel=big)
    ctx.check(_reads(c, out, "big id"), f"channel {big} should work, read back {out!r}")
    _run(ctx, c, "send", channel=2, message="small id")
    again = _run(ctx, c, "read", channel=big)
    ctx.check(_reads(c, again, "big id"), "channel 2 and channel 2^20+2 must be different channels")


def tau_channels_independent_and_overwrite(ctx: ScenarioContext) -> None:
    """Channels hold their own last message."""
    c = current(TAU_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=1, message="one")
    _run(ctx, c, "send", channel=9, message="nine")
    _run(ctx, c, "send", channel=1, message="uno")
    one, nine = _run(ctx, c, "read", channel=1), _run(ctx, c, "read", channel=9)
    ctx.check(_reads(c, one, "uno"), f"channel 1 should hold the last message 'uno', read {one!r}")
    ctx.check(_reads(c, nine, "nine"), f"channel 9 should still hold 'nine', read {nine!r}")


def tau_empty_channel_fails(ctx: ScenarioContext) -> None:
    """Reading an empty channel (EWOULDBLOCK): an error, exit non-zero."""
    c = current(TAU_CONV)
    _node(ctx, c)
    _fails_loudly(
        ctx, c, "the channel was never written (read gives EWOULDBLOCK)", "read", channel=77
    )


def tau_usage_errors(ctx: ScenarioContext) -> None:
    """A wrong argument count: both exit non-zero."""
    c = current(TAU_CONV)
    _node(ctx, c)
    for op, values in (("send", {"channel": 1, "message": "x"}), ("read", {"channel": 1})):
        p = _spawn(ctx, c, op, 1, **values)
        ctx.wait(p)
        how = _error_exit(p)
        ctx.check(
            how is None,
            f"`{ctx.name_of(p)}` (an argument missing) should exit non-zero; it {how}",
            p,
        )


def tau_write_is_exact(ctx: ScenarioContext) -> None:
    """The channel is set first and the write carries no NUL (trace)."""
    c = current(TAU_CONV)
    _node(ctx, c)
    sender = channel_set_before_write(ctx, c, channel=3, message="exact")
    sizes = [e.args.rsplit(", ", 1)[-1] for e in ctx.events(sender, "write")]
    ctx.check(
        sizes == ["5"], f"'exact' should be written as 5 bytes (no NUL), got sizes {sizes}", sender
    )


def tau_closes_device(ctx: ScenarioContext) -> None:
    """Both programs close the device (trace)."""
    c = current(TAU_CONV)
    _node(ctx, c)
    closes_device(ctx, c)


def tau_message_size_limits(ctx: ScenarioContext) -> None:
    """128 bytes work, 129 make the sender exit non-zero."""
    c = current(TAU_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=4, message="m" * 128)
    out = _run(ctx, c, "read", channel=4)
    ctx.check(_reads(c, out, "m" * 128), "a 128-byte message should round-trip")
    _run(ctx, c, "send", ok=False, channel=4, message="m" * 129)


def _fails_loudly(
    ctx: ScenarioContext, c: Conventions, cause: str, op: str, **values: object
) -> Proc:
    """The call failed as the text lists: the client must say so on stderr and exit non-zero."""
    p = _spawn(ctx, c, op, **values)
    ctx.wait(p, why=ctx.name_of(p))
    shown = f"`{ctx.name_of(p)}`"
    how = _error_exit(p)
    ctx.check(how is None, f"{shown}: {cause}; it should exit with a non-zero status, it {how}", p)
    ctx.check(
        bool(p.stderr.strip()),
        f"{shown}: {cause}; it should print an error on stderr, it printed none "
        f"(stdout: {p.output[-120:]!r})",
        p,
    )
    return p


def tau_channel_zero_fails(ctx: ScenarioContext) -> None:
    """Channel 0 (ioctl EINVAL): both programs print an error and exit non-zero."""
    c = current(TAU_CONV)
    _node(ctx, c)
    cause = "channel 0 is invalid (ioctl gives EINVAL)"
    _fails_loudly(ctx, c, cause, "send", channel=0, message="zero")
    _fails_loudly(ctx, c, cause, "read", channel=0)


def tau_empty_message_fails(ctx: ScenarioContext) -> None:
    """An empty message (write EMSGSIZE): the sender prints an error and exits non-zero."""
    c = current(TAU_CONV)
    _node(ctx, c)
    cause = "an empty message is refused (write gives EMSGSIZE)"
    _fails_loudly(ctx, c, cause, "send", channel=6, message="")


def tau_small_buffer_fails(ctx: ScenarioContext) -> None:
    """A message longer than the reader's buffer (read ENOSPC): an error, exit non-zero."""
    c = current(TAU_CONV)
    path = _node(ctx, c)
    # a 200-byte message, as a driver with longer messages would hold: a reader
    # with the text's 128-byte buffer gets ENOSPC
    node = ctx.sandbox.sup.vfs.lookup(os.path.realpath(ctx.workdir / path))
    if node is None:
        ctx.fail(f"the grader could not find its node {path}")
    assert node is not None
    driver = ctx.sandbox.devices["message_slot"]
    assert isinstance(driver, MessageSlot)
    driver.slots.setdefault(node.ino, Slot(node.ino)).channels[8] = b"L" * 200
    cause = "the buffer is smaller than the message (read gives ENOSPC)"
    p = _fails_loudly(ctx, c, cause, "read", channel=8)
    refused = [e for e in ctx.events(p, "read") if e.errno == "ENOSPC"]
    ctx.check(bool(refused), "message_reader should read the 200-byte message and get ENOSPC", p)


# -- optional scenarios a course file turns on ------------------------------------


def tau_append_mode(ctx: ScenarioContext) -> None:
    """Mode 1 appends to the channel's message, mode 0 overwrites it (2019)."""
    c = current(TAU_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=3, message="head", mode=0)
    _run(ctx, c, "send", channel=3, message="+tail", mode=1)
    out = _run(ctx, c, "read", channel=3)
    ctx.check(_reads(c, out, "head+tail"), f"after 'head' then '+tail' in mode 1, read {out!r}")
    _run(ctx, c, "send", channel=3, message="fresh", mode=0)
    out = _run(ctx, c, "read", channel=3)
    ctx.check(_reads(c, out, "fresh"), f"mode 0 should overwrite the message, read {out!r}")


def tau_censorship(ctx: ScenarioContext) -> None:
    """With censorship on, every third character reads back as '#' (2025)."""
    c = current(TAU_CONV)
    _node(ctx, c)
    _run(ctx, c, "send", channel=2, message="abcdefgh", censor=1)
    out = _run(ctx, c, "read", channel=2)
    ctx.check(
        _reads(c, out, "ab#de#gh"), f"'abcdefgh' censored should read 'ab#de#gh', got {out!r}"
    )
    _run(ctx, c, "send", channel=2, message="abcdefgh", censor=0)
    out = _run(ctx, c, "read", channel=2)
    ctx.check(_reads(c, out, "abcdefgh"), f"with censorship off the message is kept, got {out!r}")


# -- the student's module (module scenarios) -----------------------------------


def _commands(ctx: ScenarioContext) -> list[str]:
    """The set-channel command as the texts' headers write it, _IOW(major, 0, T) with
    T unsigned long and unsigned int (the probe uses the first the module accepts)."""
    major = ctx.device("message_slot").major_number
    return [str(iow(major, 0, 8)), str(iow(major, 0, 4))]


def _probe_bad_pointers(ctx: ScenarioContext, c: Conventions) -> None:
    node = _node(ctx, c)
    kmodule.probe(
        ctx, "write and read with NULL and unmapped buffers",
        "badptr", "slot", node, *_commands(ctx),
    )  # fmt: skip


def seed_bad_user_pointers(ctx: ScenarioContext) -> None:
    """Bad user pointers (NULL, unmapped) make the calls fail, with no report."""
    _probe_bad_pointers(ctx, SEED_CONV)


def tau_bad_user_pointers(ctx: ScenarioContext) -> None:
    """Bad user pointers (NULL, unmapped) make the calls fail, with no report."""
    _probe_bad_pointers(ctx, TAU_CONV)


def seed_concurrent_openers(ctx: ScenarioContext) -> None:
    """4 processes at once, each on its own channel, 20 open/write/read/close rounds."""
    node = _node(ctx, SEED_CONV)
    kmodule.probe(
        ctx, "4 processes at once on channels 0..3",
        "concurrent", "slot", "4", "0", node, *_commands(ctx),
    )  # fmt: skip


def tau_concurrent_openers(ctx: ScenarioContext) -> None:
    """8 processes at once, each on its own channel, 20 open/write/read/close rounds."""
    node = _node(ctx, TAU_CONV)
    kmodule.probe(
        ctx, "8 processes at once on channels 1..8",
        "concurrent", "slot", "8", "1", node, *_commands(ctx),
    )  # fmt: skip


def seed_many_slots(ctx: ScenarioContext) -> None:
    """8 device files (minors 0..7) x 4 channels each hold their own message."""
    nodes = [_node(ctx, SEED_CONV, minor, f"slot{minor}") for minor in range(8)]
    kmodule.probe(
        ctx, "8 slots x channels 0..3", "channels", "0", "4", ",".join(nodes), *_commands(ctx)
    )


def tau_many_channels(ctx: ScenarioContext) -> None:
    """200 channels on each of 2 device files hold their own message."""
    nodes = [_node(ctx, TAU_CONV, minor, f"slot{minor}") for minor in (0, 1)]
    kmodule.probe(
        ctx, "2 slots x channels 1..200", "channels", "1", "200", ",".join(nodes),
        *_commands(ctx),
    )  # fmt: skip


def _module_scenarios(
    reference: tuple[Callable[[ScenarioContext], None], ...],
    pair: Callable[[ScenarioContext], None],
    robustness: tuple[Callable[[ScenarioContext], None], ...],
) -> tuple[Scenario, ...]:
    """The suite's own scenarios with the reference clients, one with the student's
    pair, and the robustness ones (probe), all against the student's module."""
    return (
        *(module_scenario(5, run, "reference", (SEND, READ)) for run in reference),
        module_scenario(10, pair, "student", (SEND, READ)),
        *(module_scenario(5, run, "probe", (kmodule.PROBE,)) for run in robustness),
        module_scenario(5, kmodule.rmmod_with_nothing_open, "probe"),
    )


SEED = Assignment(
    name="message-slot",
    title="Message slot (the seed text: 4 channels of 128 bytes)",
    programs=(Program(SEND, "message_sender.c"), Program(READ, "message_reader.c")),
    devices=("message_slot,profile=seed",),
    module_sources=("message_slot.c",),
    scenarios=(
        scenario(15, seed_send_then_read, (SEND, READ)),
        scenario(10, seed_channels_are_independent, (SEND, READ)),
        scenario(10, seed_overwrite, (SEND, READ)),
        scenario(5, seed_reads_do_not_consume, (SEND, READ)),
        scenario(10, seed_invalid_channel_sender_fails, (SEND,)),
        scenario(5, seed_invalid_channel_reader_fails, (READ,)),
        scenario(5, seed_usage_errors, (SEND, READ)),
        scenario(10, seed_channel_set_before_write, (SEND,)),
        scenario(5, seed_closes_device, (SEND, READ)),
        scenario(5, seed_long_message_truncated, (SEND, READ)),
    ),
    module_scenarios=_module_scenarios(
        (
            seed_send_then_read,
            seed_channels_are_independent,
            seed_overwrite,
            seed_reads_do_not_consume,
            seed_invalid_channel_sender_fails,
            seed_invalid_channel_reader_fails,
            seed_long_message_truncated,
        ),
        seed_send_then_read,
        (seed_bad_user_pointers, seed_concurrent_openers, seed_many_slots),
    ),
    reference_clients=(Program(SEND, "message_sender.c"), Program(READ, "message_reader.c")),
)

TAU = Assignment(
    name="message-slot-tau",
    title="Message slot (the 2019+ variant: any non-zero channel id)",
    programs=SEED.programs,
    devices=("message_slot,profile=tau",),
    module_sources=("message_slot.c",),
    scenarios=(
        scenario(15, tau_send_then_read, (SEND, READ)),
        scenario(10, tau_big_channel_id, (SEND, READ)),
        scenario(10, tau_channels_independent_and_overwrite, (SEND, READ)),
        scenario(10, tau_empty_channel_fails, (READ,)),
        scenario(10, tau_usage_errors, (SEND, READ)),
        scenario(10, tau_write_is_exact, (SEND,)),
        scenario(5, tau_closes_device, (SEND, READ)),
        scenario(10, tau_message_size_limits, (SEND, READ)),
        scenario(10, tau_channel_zero_fails, (SEND, READ)),
        scenario(5, tau_empty_message_fails, (SEND,)),
        scenario(5, tau_small_buffer_fails, (READ,)),
    ),
    module_scenarios=_module_scenarios(
        (
            tau_send_then_read,
            tau_big_channel_id,
            tau_channels_independent_and_overwrite,
            tau_empty_channel_fails,
            tau_message_size_limits,
            tau_channel_zero_fails,
            tau_empty_message_fails,
        ),
        tau_send_then_read,
        (tau_bad_user_pointers, tau_concurrent_openers, tau_many_channels),
    ),
    reference_clients=(
        Program(SEND, "tau/message_sender.c"),
        Program(READ, "tau/message_reader.c"),
    ),
)

SEED_INFO = SuiteInfo(SEED_CONV, OP_FIELDS)
TAU_INFO = SuiteInfo(
    TAU_CONV,
    OP_FIELDS,
    extras=(
        scenario(10, tau_append_mode, (SEND, READ)),
        scenario(10, tau_censorship, (SEND, READ)),
    ),
)
