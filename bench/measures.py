"""The benchmark measures: each runs ptsandbox and a baseline in the same run, interleaved.

Every measure is a function `(sizes, runs) -> Measure`; `run.py` prints and saves
them and `test_bench_smoke.py` calls them with tiny sizes. Times of C programs
are taken inside the programs (CLOCK_MONOTONIC), so start-up is excluded except
in the start-up measure. Sandboxes run with trace=False, as `ptsandbox run` runs
a program: the testing API's per-call record (with each program's output read
up to every call) is a grader's tool, not part of a device call. The fan-out
runs in a fresh interpreter (`python measures.py fanout-worker ...`) so that its
peak RSS is the supervisor's own.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CSRC = BENCH / "c"
CPROGS = ROOT / "cprogs"
if str(ROOT) not in sys.path:  # `python bench/run.py` without PYTHONPATH or an install
    sys.path.insert(0, str(ROOT))

from ptsandbox.api import Sandbox  # noqa: E402
from ptsandbox.cc import DEFAULT_FLAGS, cache_dir, compile_c  # noqa: E402
from ptsandbox.devices.chatroom import Chatroom  # noqa: E402
from ptsandbox.notify import missing_notify_feature  # noqa: E402
from ptsandbox.supervisor import THREADS_ENV  # noqa: E402

TIMES = "\N{MULTIPLICATION SIGN}"
TIMEOUT = 300.0  # per program; generous: a slow machine must not fail a benchmark


class BenchError(RuntimeError):
    """A benchmark program failed or printed something unexpected."""


# --------------------------------------------------------------------------
# Sizes and results


@dataclass(frozen=True)
class Sizes:
    """How much work each measure does per run."""

    syscalls: int = 1_000_000  # getppid calls, and as many getuid calls
    devnull_writes: int = 100_000
    device_ops: int = 5_000  # of each of ioctl, write, read
    round_trips: int = 2_000
    fanout_members: int = 100  # receiving members (plus one sender)
    fanout_messages: int = 1_000  # messages sent, so each member receives this many
    fanout_queue: int = 1_024  # FIFO length (full=block: the sender waits, nothing drops)


FULL = Sizes()
QUICK = Sizes(
    syscalls=10_000,
    devnull_writes=1_000,
    device_ops=300,
    round_trips=100,
    fanout_members=10,
    fanout_messages=20,
    fanout_queue=64,
)


@dataclass
class Row:
    """One line of the table: ptsandbox against its baseline."""

    name: str
    unit: str  # "ms", "µs/op", "msg/s", "MB", "messages"
    ptsandbox: float
    baseline: float | None = None
    ratio: float | None = None  # ptsandbox's time / the baseline's time (>1: slower)
    goal: str = "measure only"
    met: bool | None = None  # None: no goal
    ratio_text: str | None = None  # shown instead of the ratio (e.g. "+92 ms")


@dataclass
class Measure:
    number: int
    title: str
    sizes: dict[str, int]
    rows: list[Row]
    raw: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def slowdown_row(
    name: str, unit: str, ours: float, base: float, limit: float | None, higher_is_better: bool
) -> Row:
    """A row whose ratio is ptsandbox's cost over the baseline's (rates are inverted)."""
    ratio = base / ours if higher_is_better else ours / base
    goal = "measure only" if limit is None else f"≤ {limit:g}{TIMES}"
    met = None if limit is None else ratio <= limit
    return Row(name, unit, ours, base, ratio, goal, met)


# --------------------------------------------------------------------------
# Building and running programs


def build(name: str) -> str:
    """bench/c/NAME.c (or bench/NAME.c) built with gcc, cached; its path."""
    src = CSRC / f"{name}.c"
    if not src.exists():
        src = BENCH / f"{name}.c"
    flags = (*DEFAULT_FLAGS, f"-I{CPROGS}")
    return str(compile_c([src], name=f"bench-{name}", flags=flags))


def child_env() -> dict[str, str]:
    """The environment for Python children: ptsandbox importable from this checkout."""
    env = dict(os.environ)
    paths = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _unblock_signals() -> None:
    # a Sandbox blocks SIGCHLD in this process (for its signalfd); natives start clean
    import signal

    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def run_native(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    """Run a program directly; its stdout. Raises BenchError unless it exits 0."""
    proc = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        preexec_fn=_unblock_signals,
    )
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def backends() -> tuple[str, ...]:
    """The backends measured side by side: ptrace, and notify where the kernel has it."""
    return ("ptrace",) if missing_notify_feature() else ("ptrace", "notify")


def _key(backend: str) -> str:
    # the ptrace backend's results keep their old name
    return "ptsandbox" if backend == "ptrace" else backend


def _tag(backend: str) -> str:
    return "" if backend == "ptrace" else f" ({backend})"


def run_sandboxed(
    argv: Sequence[str], backend: str = "ptrace", listener_threads: bool = True
) -> tuple[str, dict[str, Any]]:
    """Run a program under a fresh ptsandbox supervisor; (stdout, supervisor stats).
    `listener_threads=False`: the notify backend serves from its loop's epoll."""
    with _env(THREADS_ENV, None if listener_threads else "0"):
        sb = Sandbox([Chatroom()], backend=backend, trace=False)
    with sb:
        p = sb.spawn(argv)
        code = p.wait(TIMEOUT)
        if code != 0:
            raise BenchError(f"{' '.join(argv)} (sandboxed): exit {code}: {p.stderr.strip()}")
        return p.output, sb.stats()


@contextmanager
def _env(name: str, value: str | None) -> Iterator[None]:
    """`name` set to `value` (None: left as it is) for the block."""
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


_FIELD = re.compile(r"(\w+)=(-?[0-9.]+)")


def fields(output: str) -> dict[str, float]:
    """`key=value` numbers of a program's last line that has any."""
    for line in reversed(output.splitlines()):
        found = _FIELD.findall(line)
        if found:
            return {k: float(v) for k, v in found}
    raise BenchError(f"no key=value results in {output!r}")


@contextmanager
def pinned_to_one_cpu(enabled: bool = True) -> Iterator[int | None]:
    """Pin this process (the supervisor) to one CPU; children started meanwhile inherit it."""
    if not enabled:
        yield None
        return
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


# --------------------------------------------------------------------------
# 1. Untrapped syscalls


def measure_syscalls(sizes: Sizes, runs: int) -> Measure:
    """1M getppid + 1M getuid + 100k writes to /dev/null: under ptsandbox vs natively."""
    argv = [build("syscalls"), str(sizes.syscalls), str(sizes.devnull_writes)]
    native: list[dict[str, float]] = []
    sandboxed: list[dict[str, float]] = []
    stops: list[int] = []
    run_native(argv)  # warm-up (page cache, CPU frequency)
    for _ in range(runs):
        native.append(fields(run_native(argv)))
        out, stats = run_sandboxed(argv)
        sandboxed.append(fields(out))
        stops.append(int(stats["stops"]))
    parts = ("getppid_ns", "getuid_ns", "write_ns", "total_ns")
    medians = {
        side: {p: median([r[p] for r in data]) for p in parts}
        for side, data in (("native", native), ("ptsandbox", sandboxed))
    }
    ours, base = medians["ptsandbox"]["total_ns"] / 1e6, medians["native"]["total_ns"] / 1e6
    row = slowdown_row("1 untrapped syscalls", "ms", ours, base, 1.35, False)
    return Measure(
        1,
        "untrapped syscalls",
        {"getppid": sizes.syscalls, "getuid": sizes.syscalls, "writes": sizes.devnull_writes},
        [row],
        {
            "native": native,
            "ptsandbox": sandboxed,
            "supervisor_stops": stops,
            "medians_ns": medians,
            "per_part_ratio": {
                p: medians["ptsandbox"][p] / medians["native"][p] for p in parts[:3]
            },
        },
    )


# --------------------------------------------------------------------------
# 2. Emulated device operations vs the C floor

DEVICE_OPS = (("ioctl", "ioctl set-name"), ("write", "write 10 B"), ("read", "read → EAGAIN"))


def measure_device_ops(sizes: Sizes, runs: int) -> Measure:
    """K ioctl / write / non-blocking read on /dev/chatroom: ptsandbox vs bench/floor.c.

    Both unpinned (as a user runs it: every stop pays two cross-CPU wake-ups;
    goal ≤ 0.5x the C floor, which only a synchronous wake-up can reach) and
    pinned to one CPU (the CPU cost of a stop alone; goal ≤ 1.3x); each backend
    (ptrace, notify) in the same runs, interleaved, and notify once more served
    from its loop's epoll instead of listener threads (measure only).
    """
    devops, floor = build("devops"), build("floor")
    k = str(sizes.device_ops)
    data: dict[str, list[dict[str, float]]] = {}
    stops: list[float] = []

    def record(key: str, out: str) -> None:
        data.setdefault(key, []).append(fields(out))

    run_native([floor, devops, "/dev/null", k])  # warm-up
    for _ in range(runs):
        for pin in (False, True):
            suffix = "_pinned" if pin else ""
            with pinned_to_one_cpu(pin):
                record("native" + suffix, run_native([devops, "/dev/null", k, "nocheck"]))
                record("floor" + suffix, run_native([floor, devops, "/dev/null", k]))
                for backend in backends():
                    out, stats = run_sandboxed([devops, "/dev/chatroom", k], backend)
                    record(_key(backend) + suffix, out)
                    if backend == "ptrace":
                        stops.append(stats["stops"] / (3 * sizes.device_ops))
                if "notify" in backends():
                    out, _ = run_sandboxed([devops, "/dev/chatroom", k], "notify", False)
                    record("notify_epoll" + suffix, out)
    medians = {
        key: {op: median([r[f"{op}_ns"] for r in runs_]) / 1000 for op, _ in DEVICE_OPS}
        for key, runs_ in data.items()
    }
    rows = [
        slowdown_row(
            f"2 {label}{' (pinned)' if pin else ''}{_tag(backend)}",
            "µs/op",
            medians[_key(backend) + ("_pinned" if pin else "")][op],
            medians["floor" + ("_pinned" if pin else "")][op],
            1.3 if pin else 0.5,
            False,
        )
        for backend in backends()
        for pin in (False, True)
        for op, label in DEVICE_OPS
    ]
    rows += [
        slowdown_row(
            f"2 {label}{' (pinned)' if pin else ''} (notify, epoll)",
            "µs/op",
            medians["notify_epoll" + ("_pinned" if pin else "")][op],
            medians["floor" + ("_pinned" if pin else "")][op],
            None,
            False,
        )
        for pin in (False, True)
        for op, label in DEVICE_OPS
        if "notify_epoll" in data
    ]
    return Measure(
        2,
        "emulated device operations vs the C floor",
        {"ops_each": sizes.device_ops},
        rows,
        {"runs_ns_per_op": data, "medians_us_per_op": medians, "stops_per_op": stops},
    )


# --------------------------------------------------------------------------
# 3 and 6. Chat round trip


def chat_round_trip(exe: str, m: int, backend: str = "ptrace", reads: str = "pushed") -> float:
    """One ping-pong of `m` round trips between two clients of /dev/chatroom; ns per trip."""
    with Sandbox([Chatroom(config={"reads": reads})], backend=backend, trace=False) as sb:
        pong = sb.spawn([exe, "pong", str(m)])
        pong.expect("ready", TIMEOUT)
        ping = sb.spawn([exe, "ping", str(m)])
        for p in (ping, pong):
            if p.wait(TIMEOUT) != 0:
                raise BenchError(f"chat_pingpong {p.argv[1]}: exit {p.exit_code}: {p.stderr}")
        return fields(ping.output)["rt_ns"]


READS = ("pushed", "emulated")  # the chat room's read paths (its `reads` parameter)


def _variant(backend: str, reads: str = "pushed") -> str:
    """The results' key of one configuration (the default one keeps its old name)."""
    return _key(backend) + ("" if reads == "pushed" else f"_{reads}")


def _variant_tag(backend: str, reads: str) -> str:
    tags = [] if backend == "ptrace" else [backend]
    tags += [] if reads == "pushed" else [f"reads {reads}"]
    return f" ({', '.join(tags)})" if tags else ""


def _round_trips(
    sizes: Sizes,
    runs: int,
    pins: Sequence[bool],
    backends: Sequence[str] = ("ptrace",),
    reads: Sequence[str] = ("pushed",),
) -> dict[str, list[float]]:
    chat, seqpacket = build("chat_pingpong"), build("seqpacket_pingpong")
    m = sizes.round_trips
    out: dict[str, list[float]] = {}
    run_native([seqpacket, str(m)])  # warm-up
    for _ in range(runs):
        for pin in pins:
            suffix = "_pinned" if pin else ""
            with pinned_to_one_cpu(pin):
                native = fields(run_native([seqpacket, str(m)]))["rt_ns"]
                out.setdefault("native" + suffix, []).append(native)
                for backend in backends:
                    for path in reads:
                        rt = chat_round_trip(chat, m, backend, path)
                        out.setdefault(_variant(backend, path) + suffix, []).append(rt)
    return out


def _msgs_per_s(rt_ns: float) -> float:
    return 2 * 1e9 / rt_ns  # a round trip is two messages


def measure_round_trip(sizes: Sizes, runs: int) -> Measure:
    """Two chat clients ping-ponging through /dev/chatroom vs a native seqpacket pair,
    unpinned and pinned to one CPU, on each backend and read path (interleaved)."""
    data = _round_trips(sizes, runs, (False, True), backends(), READS)
    medians = {k: median(v) for k, v in data.items()}
    rows = [
        slowdown_row(
            f"3 chat round trip{' (pinned)' if pin else ''}{_variant_tag(backend, path)}",
            "msg/s",
            _msgs_per_s(medians[_variant(backend, path) + ("_pinned" if pin else "")]),
            _msgs_per_s(medians["native" + ("_pinned" if pin else "")]),
            10,
            True,
        )
        for backend in backends()
        for path in READS
        for pin in (False, True)
    ]
    return Measure(
        3,
        "chat round trip",
        {"round_trips": sizes.round_trips},
        rows,
        {"runs_rt_ns": data, "median_rt_us": {k: v / 1000 for k, v in medians.items()}},
    )


def measure_pinned(sizes: Sizes, runs: int) -> Measure:
    """Measure 3 with the supervisor and both clients on one CPU vs unpinned (interleaved)."""
    data = _round_trips(sizes, runs, (False, True))
    medians = {k: median(v) for k, v in data.items()}
    rate = {k: _msgs_per_s(v) for k, v in medians.items()}
    rows = [
        slowdown_row(
            "6 round trip pinned vs unpinned",
            "msg/s",
            rate["ptsandbox_pinned"],
            rate["ptsandbox"],
            None,
            True,
        ),
        slowdown_row(
            "6 pinned, vs native pinned",
            "msg/s",
            rate["ptsandbox_pinned"],
            rate["native_pinned"],
            None,
            True,
        ),
    ]
    return Measure(
        6,
        "chat round trip, pinned to one CPU",
        {"round_trips": sizes.round_trips},
        rows,
        {"runs_rt_ns": data, "median_rt_us": {k: v / 1000 for k, v in medians.items()}},
    )


# --------------------------------------------------------------------------
# 4. Fan-out


def fanout_once(exe: str, members: int, messages: int, queue_len: int) -> dict[str, Any]:
    """One sender, `members` receivers, in this process's supervisor (run it in a worker)."""
    room = Chatroom(config={"full": "block", "queue_len": queue_len})
    # trace=False: the supervisor as `ptsandbox run` has it. A Sandbox records every
    # call for graders by default, ~0.6 KB per delivery here (80 MB at 100 x 1,000).
    with Sandbox([room], trace=False) as sb:
        receivers = [sb.spawn([exe, "recv", str(messages), f"r{i}"]) for i in range(members)]
        for r in receivers:
            r.expect("ready", TIMEOUT)
        started = time.monotonic()
        sender = sb.spawn([exe, "send", str(messages)])
        for p in (sender, *receivers):
            if p.wait(TIMEOUT) != 0:
                raise BenchError(f"fanout {p.argv[1]}: exit {p.exit_code}: {p.stderr}")
        wall = time.monotonic() - started
        got = [fields(r.output) for r in receivers]
        sent = fields(sender.output)
        snapshot = room.snapshot()
        stops = int(sb.stats()["stops"])
    received = sum(int(g["received"]) for g in got)
    elapsed_ns = max(g["end_ns"] for g in got) - sent["start_ns"]
    return {
        "delivered": received,
        "expected": members * messages,
        "lost": members * messages - received,
        "deliveries_per_s": received / (elapsed_ns / 1e9),
        "elapsed_s": elapsed_ns / 1e9,
        "wall_s_from_sender_spawn": wall,
        "sender_s": (sent["end_ns"] - sent["start_ns"]) / 1e9,
        "device_messages": snapshot["messages"],
        "device_drops_notices": snapshot["dropped"],  # only notices can drop with full=block
        "supervisor_stops": stops,
        "supervisor_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_fanout(sizes: Sizes, runs: int) -> Measure:
    """N members each receive every one of M messages from one sender (full=block)."""
    exe = build("fanout")
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "fanout-worker",
        exe,
        str(sizes.fanout_members),
        str(sizes.fanout_messages),
        str(sizes.fanout_queue),
    ]
    results = [json.loads(run_native(argv, env=child_env())) for _ in range(runs)]
    throughput = median([r["deliveries_per_s"] for r in results])
    lost = max(r["lost"] for r in results)
    rss = max(r["supervisor_peak_rss_mb"] for r in results)
    rows = [
        Row("4 fan-out deliveries", "msg/s", throughput),
        Row("4 fan-out lost (worst run)", "messages", lost, goal="0", met=lost == 0),
        Row("4 fan-out supervisor RSS (peak)", "MB", rss, goal="≤ 100 MB", met=rss <= 100),
    ]
    return Measure(
        4,
        "fan-out",
        {
            "members": sizes.fanout_members,
            "messages_each": sizes.fanout_messages,
            "queue_len": sizes.fanout_queue,
        },
        rows,
        {"runs": results},
    )


# --------------------------------------------------------------------------
# 5. Start-up


def _wall_ms(argv: Sequence[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    run_native(argv, env=env)
    return (time.perf_counter() - t0) * 1000


def import_costs(args: Sequence[str], env: dict[str, str], top: int = 5) -> list[dict[str, Any]]:
    """The `top` modules by cumulative import time (µs) of `python -X importtime ARGS`.

    The second of two runs: the first writes the .pyc files it may lack."""
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=env,
        )
    found: list[tuple[int, int, str, int]] = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            self_us, cumulative, indent, module = m.groups()
            found.append((int(cumulative), int(self_us), module, len(indent) // 2))
    found.sort(reverse=True)
    return [
        {"module": module, "cumulative_us": cum, "self_us": own, "depth": depth}
        for cum, own, module, depth in found[:top]
    ]


def bytecode_env() -> dict[str, str]:
    """child_env() with .pyc files written and reused (under the user's cache, not the
    checkout), as for any installed package; this machine may set PYTHONDONTWRITEBYTECODE."""
    env = child_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir().parent / "bench-pycache")
    return env


def measure_startup(sizes: Sizes, runs: int) -> Measure:
    """Wall time of `python -m ptsandbox run /bin/true` vs `/bin/true`; import costs."""
    env, env_as_is = bytecode_env(), child_env()
    cli = [sys.executable, "-m", "ptsandbox", "run", "/bin/true"]
    bare = [sys.executable, "-c", "pass"]
    for argv in (cli, bare, ["/bin/true"]):
        _wall_ms(argv, env)  # warm-up (and the .pyc files written)
    data: dict[str, list[float]] = {
        "true": [],
        "ptsandbox_run_true": [],
        "python_c_pass": [],
        "ptsandbox_run_true_environment_as_is": [],
    }
    for _ in range(runs):
        data["true"].append(_wall_ms(["/bin/true"], env))
        data["ptsandbox_run_true"].append(_wall_ms(cli, env))
        data["python_c_pass"].append(_wall_ms(bare, env))
        data["ptsandbox_run_true_environment_as_is"].append(_wall_ms(cli, env_as_is))
    medians = {k: median(v) for k, v in data.items()}
    ours, base = medians["ptsandbox_run_true"], medians["true"]
    extra = ours - base
    row = Row(
        "5 start-up: run /bin/true",
        "ms",
        ours,
        base,
        ours / base,
        "≤ +150 ms",
        extra <= 150,
        f"+{extra:.0f} ms",
    )
    return Measure(
        5,
        "start-up",
        {},
        [row],
        {
            "runs_ms": data,
            "medians_ms": medians,
            "environment": {k: env.get(k) for k in ("PYTHONPYCACHEPREFIX", "PYTHONPATH")},
            "imports_help": import_costs(["-m", "ptsandbox", "--help"], env),
            "imports_run_true": import_costs(["-m", "ptsandbox", "run", "/bin/true"], env),
        },
    )


# --------------------------------------------------------------------------
# 7. A hosted kernel module against the Python device


KMOD_SLOT = ROOT / "tests" / "c" / "kmod" / "slot"  # a student-style message_slot module


def _slotops_once(exe: str, k: int, hosted: bool) -> dict[str, float]:
    from ptsandbox.devices.kmodule import module_class
    from ptsandbox.devices.message_slot import MessageSlot

    device = module_class(KMOD_SLOT)(config={}) if hosted else MessageSlot()
    with Sandbox([device], trace=False) as sb:
        p = sb.spawn([exe, str(k)])
        code = p.wait(TIMEOUT)
        if code != 0:
            raise BenchError(
                f"slotops ({'module' if hosted else 'device'}): exit {code}: {p.stderr}"
            )
        return fields(p.output)


def measure_kmod(sizes: Sizes, runs: int) -> Measure:
    """K ioctl / write / read on /dev/message_slot: a hosted kernel module vs the
    built-in Python device. The ratio is what running the student's own module
    costs per call over ptsandbox's own device (a round trip to the host process)."""
    exe = build("slotops")
    k = sizes.device_ops
    _slotops_once(exe, 10, hosted=True)  # compiles (cached) and warms up
    data: dict[str, list[dict[str, float]]] = {"module": [], "device": []}
    for _ in range(runs):
        data["module"].append(_slotops_once(exe, k, hosted=True))
        data["device"].append(_slotops_once(exe, k, hosted=False))
    ops = (("ioctl", "ioctl"), ("write", "write"), ("read", "read"))
    medians = {
        key: {op: median([r[f"{op}_ns"] for r in rs]) / 1000 for op, _ in ops}
        for key, rs in data.items()
    }
    rows = [
        slowdown_row(
            f"7 {label} (hosted module)",
            "µs/op",
            medians["module"][op],
            medians["device"][op],
            None,
            False,
        )
        for op, label in ops
    ]
    return Measure(
        7,
        "a hosted kernel module vs the Python device, per call",
        {"ops_each": k},
        rows,
        {"runs_ns_per_op": data, "medians_us_per_op": medians},
    )


MEASURES: dict[int, Callable[[Sizes, int], Measure]] = {
    1: measure_syscalls,
    2: measure_device_ops,
    3: measure_round_trip,
    4: measure_fanout,
    5: measure_startup,
    6: measure_pinned,
    7: measure_kmod,
}


def _worker(argv: list[str]) -> None:
    """`python measures.py fanout-worker EXE MEMBERS MESSAGES QUEUE_LEN` -> JSON on stdout."""
    if len(argv) != 5 or argv[0] != "fanout-worker":
        sys.exit("usage: measures.py fanout-worker EXE MEMBERS MESSAGES QUEUE_LEN")
    exe, members, messages, queue = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    print(json.dumps(fanout_once(exe, members, messages, queue)))


if __name__ == "__main__":
    _worker(sys.argv[1:])
