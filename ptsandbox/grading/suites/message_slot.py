"""message_slot, both profiles: `message_sender` and `message_reader` as the texts define them.

seed (seeds/message_slot.txt): `message_sender CHANNEL MESSAGE`, `message_reader
CHANNEL` on the fixed device file /dev/message_slot (made by the grader with mknod).
tau (the 2019+ variant): `message_sender DEVICE CHANNEL MESSAGE` prints nothing,
`message_reader DEVICE CHANNEL` prints only the message; errors exit 1.
"""

from __future__ import annotations

from ...api import Proc
from ..context import ScenarioContext
from ..model import Assignment, Program, scenario

SEND, READ = "message_sender", "message_reader"
SEED_NODE = "/dev/message_slot"
TAU_NODE = "slot0"  # made in the scenario's own directory


def _node(ctx: ScenarioContext, path: str) -> None:
    """mknod with the major the loaded driver registered (the course header's)."""
    major = ctx.sandbox.devices["message_slot"].major_number
    if ctx.shell(f"mknod {path} c {major} 0") != 0:
        ctx.fail(f"the grader could not make {path} (mknod {path} c {major} 0)")


def _run(ctx: ScenarioContext, program: str, *args: str, ok: bool = True) -> str:
    """Run one client to its end; check that it succeeded (or failed cleanly)."""
    p = ctx.spawn(program, *args)
    code = ctx.wait(p, why=f"{program} {' '.join(args)}")
    if ok and code != 0:
        ctx.fail(
            f"`{program} {' '.join(args)}` should succeed, it exited {code}; "
            f"stderr: {p.stderr[-200:]!r}",
            p,
        )
    if not ok and not 0 < code < 128:
        how = "exited 0" if code == 0 else f"was killed by signal {code - 128}"
        ctx.fail(
            f"`{program} {' '.join(args)}` should report an error and exit non-zero; it {how}", p
        )
    return p.output


# -- seed ------------------------------------------------------------------------


def seed_send_then_read(ctx: ScenarioContext) -> None:
    """A message sent on a channel reads back."""
    _node(ctx, SEED_NODE)
    _run(ctx, SEND, "1", "hello slot")
    out = _run(ctx, READ, "1")
    ctx.check("hello slot" in out, f"message_reader 1 should print 'hello slot', got {out!r}")


def seed_channels_are_independent(ctx: ScenarioContext) -> None:
    """Channels 0 and 3 hold their own messages."""
    _node(ctx, SEED_NODE)
    _run(ctx, SEND, "0", "zero here")
    _run(ctx, SEND, "3", "three here")
    out0, out3 = _run(ctx, READ, "0"), _run(ctx, READ, "3")
    ctx.check("zero here" in out0 and "three" not in out0, f"channel 0 read back {out0!r}")
    ctx.check("three here" in out3 and "zero" not in out3, f"channel 3 read back {out3!r}")


def seed_overwrite(ctx: ScenarioContext) -> None:
    """A second send replaces the message."""
    _node(ctx, SEED_NODE)
    _run(ctx, SEND, "2", "first")
    _run(ctx, SEND, "2", "second")
    out = _run(ctx, READ, "2")
    ctx.check("second" in out and "first" not in out, f"after two sends, channel 2 read {out!r}")


def seed_reads_do_not_consume(ctx: ScenarioContext) -> None:
    """Reading twice gives the message twice."""
    _node(ctx, SEED_NODE)
    _run(ctx, SEND, "1", "keep me")
    for _ in range(2):
        out = _run(ctx, READ, "1")
        ctx.check("keep me" in out, f"a second read should still see the message, got {out!r}")


def seed_invalid_channel_sender_fails(ctx: ScenarioContext) -> None:
    """Channel 4: the sender prints an error and exits non-zero."""
    _node(ctx, SEED_NODE)
    p = ctx.spawn(SEND, "4", "nope")
    code = ctx.wait(p)
    ctx.check(code != 0, "message_sender 4 ... should exit non-zero (channel 4 is invalid)", p)
    ctx.check(bool((p.output + p.stderr).strip()), "message_sender 4 should print an error", p)


def seed_invalid_channel_reader_fails(ctx: ScenarioContext) -> None:
    """Channel 7: the reader exits non-zero."""
    _node(ctx, SEED_NODE)
    _run(ctx, READ, "7", ok=False)


def seed_usage_errors(ctx: ScenarioContext) -> None:
    """Missing arguments: both exit non-zero."""
    _node(ctx, SEED_NODE)
    _run(ctx, SEND, ok=False)
    _run(ctx, READ, ok=False)


def channel_set_before_write(ctx: ScenarioContext, *args: str) -> Proc:
    p = ctx.spawn(SEND, *args)
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
    _node(ctx, SEED_NODE)
    channel_set_before_write(ctx, "1", "ordered")


def closes_device(
    ctx: ScenarioContext, send_args: tuple[str, ...], read_args: tuple[str, ...]
) -> None:
    for program, args in ((SEND, send_args), (READ, read_args)):
        p = ctx.spawn(program, *args)
        ctx.wait(p)
        ctx.check(bool(ctx.events(p, "close")), f"{program} should close() the device", p)


def seed_closes_device(ctx: ScenarioContext) -> None:
    """Both programs close the device (trace)."""
    _node(ctx, SEED_NODE)
    closes_device(ctx, ("1", "bye"), ("1",))


def seed_long_message_truncated(ctx: ScenarioContext) -> None:
    """200 characters read back as the first 128."""
    _node(ctx, SEED_NODE)
    text = "".join(chr(ord("a") + i % 26) for i in range(200))
    _run(ctx, SEND, "1", text)
    out = _run(ctx, READ, "1")
    ctx.check(
        text[:128] in out,
        f"a 200-character message should read back as its first 128 characters; got {out[:160]!r}",
    )
    ctx.check(text[:129] not in out, "the reader printed more than the slot's 128 bytes")


# -- tau -------------------------------------------------------------------------


def tau_send_then_read(ctx: ScenarioContext) -> None:
    """The reader prints exactly the message."""
    _node(ctx, TAU_NODE)
    _run(ctx, SEND, TAU_NODE, "5", "hello tau")
    out = _run(ctx, READ, TAU_NODE, "5")
    ctx.check(out == "hello tau", f"message_reader should print exactly the message, got {out!r}")


def tau_big_channel_id(ctx: ScenarioContext) -> None:
    """Channel id 2^20+2 works and is its own channel."""
    _node(ctx, TAU_NODE)
    big = str((1 << 20) + 2)
    _run(ctx, SEND, TAU_NODE, big, "big id")
    out = _run(ctx, READ, TAU_NODE, big)
    ctx.check(out == "big id", f"channel {big} should work, read back {out!r}")
    _run(ctx, SEND, TAU_NODE, "2", "small id")
    again = _run(ctx, READ, TAU_NODE, big)
    ctx.check(again == "big id", "channel 2 and channel 2^20+2 must be different channels")


def tau_channels_independent_and_overwrite(ctx: ScenarioContext) -> None:
    """Channels hold their own last message."""
    _node(ctx, TAU_NODE)
    _run(ctx, SEND, TAU_NODE, "1", "one")
    _run(ctx, SEND, TAU_NODE, "9", "nine")
    _run(ctx, SEND, TAU_NODE, "1", "uno")
    ctx.check(_run(ctx, READ, TAU_NODE, "1") == "uno", "channel 1 should hold the last message")
    ctx.check(_run(ctx, READ, TAU_NODE, "9") == "nine", "channel 9 should be unaffected")


def tau_empty_channel_fails(ctx: ScenarioContext) -> None:
    """Reading an empty channel exits 1 with an error."""
    _node(ctx, TAU_NODE)
    p = ctx.spawn(READ, TAU_NODE, "77")
    code = ctx.wait(p)
    ctx.check(code == 1, f"reading a channel never written should exit 1, it exited {code}", p)
    ctx.check(bool(p.stderr.strip()), "the reader should print an error on stderr", p)


def tau_usage_errors(ctx: ScenarioContext) -> None:
    """A wrong argument count exits 1."""
    _node(ctx, TAU_NODE)
    for program, args in ((SEND, (TAU_NODE, "1")), (READ, (TAU_NODE,))):
        p = ctx.spawn(program, *args)
        code = ctx.wait(p)
        ctx.check(code == 1, f"{program} with a wrong argument count should exit 1, not {code}")


def tau_write_is_exact(ctx: ScenarioContext) -> None:
    """The channel is set first and the write carries no NUL (trace)."""
    _node(ctx, TAU_NODE)
    sender = channel_set_before_write(ctx, TAU_NODE, "3", "exact")
    sizes = [e.args.rsplit(", ", 1)[-1] for e in ctx.events(sender, "write")]
    ctx.check(
        sizes == ["5"], f"'exact' should be written as 5 bytes (no NUL), got sizes {sizes}", sender
    )


def tau_closes_device(ctx: ScenarioContext) -> None:
    """Both programs close the device (trace)."""
    _node(ctx, TAU_NODE)
    closes_device(ctx, (TAU_NODE, "1", "bye"), (TAU_NODE, "1"))


def tau_message_size_limits(ctx: ScenarioContext) -> None:
    """128 bytes work, 129 make the sender exit 1."""
    _node(ctx, TAU_NODE)
    _run(ctx, SEND, TAU_NODE, "4", "m" * 128)
    ctx.check(_run(ctx, READ, TAU_NODE, "4") == "m" * 128, "a 128-byte message should round-trip")
    _run(ctx, SEND, TAU_NODE, "4", "m" * 129, ok=False)


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
    ),
)
