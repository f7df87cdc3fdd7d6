"""The torture suite: the supervisor under many clients, kills, hostile programs
and a syscall fuzz. Each item is a function of a `Scale`; it checks its
invariants (AssertionError naming what broke) and returns its figures.

`test_torture.py` runs every item at the CI scale (about 30 s in all);
`run.py` (`just torture`) runs them at the full scale and prints the figures.
Everything is seeded and bounded: the same seed gives the same programs, the
same arguments and the same fuzz streams (thread interleavings still vary).
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptsandbox.api import Proc, Sandbox
from ptsandbox.cc import compile_c
from ptsandbox.devices.chatroom import Chatroom

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CSRC = HERE / "c"

# Hostile programs (tests/torture/c/hostile.c modes). NEEDS_TRACER_FIX names any
# that wait for a tracer fix not yet on main (none now: attaching to the
# supervisor gets EPERM since issue 14 section 1).
HOSTILE = (
    "crash", "forkstorm", "execstorm", "vfork", "threadexit", "closeblocked",
    "traceme", "int80", "noclonefiles", "stopstorm", "attachsup", "fastexit",
)  # fmt: skip
NEEDS_TRACER_FIX: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Scale:
    seed: int = 1
    clients: int = 4  # K for the chat items
    messages: int = 100  # N per client
    drop_queue_len: int = 4  # small, so that drop-newest really drops
    kill_trials: int = 5  # per kind (read, write, spin)
    hostile_rounds: int = 1  # how many times each hostile program runs
    fuzz_seconds: float = 3.0
    fuzz_procs: int = 2
    fuzz_threads: int = 2
    timeout: float = 120.0  # any single wait; reaching it is a hang


CI = Scale()
FULL = Scale(
    clients=16,
    messages=1000,
    drop_queue_len=8,
    kill_trials=100,
    hostile_rounds=5,
    fuzz_seconds=300.0,
    fuzz_procs=4,
    fuzz_threads=3,
    timeout=600.0,
)


@dataclass
class Programs:
    """The torture C programs, built once."""

    out: Path
    built: dict[str, str] = field(default_factory=dict)

    def __call__(self, name: str) -> str:
        if name not in self.built:
            src = (
                CSRC / f"{name}.c"
                if (CSRC / f"{name}.c").exists()
                else ROOT / "cprogs" / f"{name}.c"
            )
            flags = ["-Wall", "-O2", "-pthread", f"-I{ROOT / 'cprogs'}"]
            self.built[name] = str(compile_c([src], name=name, flags=flags, out_dir=self.out))
        return self.built[name]


def _keep_log(sb: Sandbox, lines: list[str]) -> None:
    """Keep the chat room's log lines (joins and releases of members) in `lines`."""
    room = sb.devices["chatroom"]
    printk = room.log

    def log(line: str) -> None:
        lines.append(line)
        printk(line)

    room.log = log


REPORT = re.compile(r"report got=(\d+) lost=(\d+) dup=(\d+) ooo=(\d+) mixed=(\d+) notices=(\d+)")


def _chat(progs: Programs, scale: Scale, full: str) -> dict[str, Any]:
    """K clients each write N numbered messages and check all they read."""
    k, n = scale.clients, scale.messages
    qlen = 64 if full == "block" else scale.drop_queue_len
    room = Chatroom(config={"full": full, "queue_len": qlen})
    t0 = time.monotonic()
    with Sandbox([room], trace=False) as sb:
        clients: list[Proc] = []
        for i in range(k):  # one by one: the join order is the id order
            c = sb.spawn([progs("tclient"), str(i), str(k), str(n)])
            c.expect("ready\n", scale.timeout)
            clients.append(c)
        for c in clients:
            c.sendline("go")
        for c in clients:
            c.expect(f"sent {n}\n", scale.timeout)
        drained = sb.serve_until(
            lambda: all(m["queued"] == 0 for m in room.snapshot()["members"]), scale.timeout
        )
        assert drained, f"queues never drained: {room.snapshot()}"
        end = sb.spawn([progs("endmark")])
        end.expect("ready\n", scale.timeout)
        end.sendline("go")
        reports = [REPORT.search(c.expect(r"report .*\n", scale.timeout).group(0)) for c in clients]
        members = {m["name"]: m for m in room.snapshot()["members"]}
        for p in [*clients, end]:
            assert p.wait(scale.timeout) == 0, p.output[-2000:]
    elapsed = time.monotonic() - t0
    totals = dict.fromkeys(("got", "lost", "dup", "ooo", "mixed", "dropped", "client_loss"), 0)
    for i, m in enumerate(reports):
        assert m is not None
        got, lost, dup, ooo, mixed, notices = map(int, m.groups())
        # member i saw the joins of the members after it and of "end"
        missing_notices = (k - 1 - i) + 1 - notices
        dropped = members[f"c{i}"]["dropped"]
        for key, val in (("got", got), ("lost", lost), ("dup", dup), ("ooo", ooo),
                         ("mixed", mixed), ("dropped", dropped),
                         ("client_loss", lost + missing_notices)):  # fmt: skip
            totals[key] += val
        assert (dup, ooo, mixed) == (0, 0, 0), f"c{i}: {m.group(0)}"
        if full == "block":
            assert (lost, missing_notices, dropped) == (0, 0, 0), f"c{i}: {m.group(0)}"
            assert got == n * (k - 1), f"c{i}: {m.group(0)}"
        else:
            assert lost + missing_notices == dropped, (
                f"c{i}: client-side loss {lost}+{missing_notices} != device dropped {dropped}"
            )
    return {
        "clients": k,
        "messages_each": n,
        "deliveries": totals["got"],
        **{k2: totals[k2] for k2 in ("lost", "dup", "ooo", "mixed")},
        "device_dropped": totals["dropped"],
        "client_side_loss": totals["client_loss"],
        "seconds": round(elapsed, 1),
    }


def chat_block(progs: Programs, scale: Scale) -> dict[str, Any]:
    return _chat(progs, scale, "block")


def chat_drop_newest(progs: Programs, scale: Scale) -> dict[str, Any]:
    return _chat(progs, scale, "drop-newest")


def _left_lines(output: str, name: str) -> int:
    return len(re.findall(rf"^{re.escape(name)} left$", output, re.M))


def _drained(room: Chatroom, names: tuple[str, ...]) -> bool:
    return all(m["queued"] == 0 for m in room.snapshot()["members"] if m["name"] in names)


def kills(progs: Programs, scale: Scale, kind: str) -> dict[str, Any]:
    """SIGKILL a member mid-blocking-read, mid-blocking-write or mid-spin, many
    times over in one supervisor: each release runs once, each "left" notice
    comes once, and the members that stay still chat."""
    rng = random.Random(f"{scale.seed}-kill-{kind}")
    room = Chatroom(config={"full": "block", "queue_len": 2})
    log: list[str] = []
    t0 = time.monotonic()
    with Sandbox([room], trace=False) as sb:
        _keep_log(sb, log)
        obs = sb.spawn([progs("joinchat"), "OBS"])
        obs.expect("You joined as OBS\n", scale.timeout)
        other = sb.spawn([progs("joinchat"), "OTHER"])
        other.expect("You joined as OTHER\n", scale.timeout)
        for i in range(scale.kill_trials):
            stuck = None
            if kind == "write":  # a member that never reads: the victim's writes block on it
                stuck = sb.spawn([progs("victim"), f"s{i}", "idle"])
                stuck.expect("ready\n", scale.timeout)
            v = sb.spawn([progs("victim"), f"v{i}", kind])
            v.expect("ready\n", scale.timeout)
            if kind == "spin":  # kill it at some point of its loop
                sb.serve_until(lambda: False, rng.uniform(0, 0.02))
            else:
                v.wait_blocked(scale.timeout)
            # the watchers have read all they were sent: the "left" notice finds room
            # (notices never block; one to a full queue is dropped, and counted)
            assert sb.serve_until(lambda: _drained(room, ("OBS", "OTHER")), scale.timeout)
            v.kill(signal.SIGKILL)
            assert v.wait(scale.timeout) == 128 + signal.SIGKILL
            obs.expect(rf"(?m)^v{i} left\n", scale.timeout)
            if stuck is not None:
                assert stuck.wait(scale.timeout) == 0
                obs.expect(rf"(?m)^s{i} left\n", scale.timeout)
            other.sendline(f"still here {i}")
            obs.expect(f"OTHER: still here {i}\n", scale.timeout)
        watchers_dropped = sum(
            m["dropped"] for m in room.snapshot()["members"] if m["name"] in ("OBS", "OTHER")
        )
        for p in (obs, other):
            p.sendline("Bye!")
            assert p.wait(scale.timeout) == 0
        files_left = len(sb.sup.vfs.files)
    assert watchers_dropped == 0, f"{watchers_dropped} messages to the watchers were dropped"
    for i in range(scale.kill_trials):
        releases = sum(1 for line in log if line.endswith(f"(v{i}) left"))
        assert releases == 1, f"v{i}: release ran {releases} times"
        notices = _left_lines(obs.output, f"v{i}")
        assert notices == 1, f"v{i}: 'left' came {notices} times"
    assert files_left == 0, f"{files_left} open files left after everyone left"
    return {"kind": kind, "trials": scale.kill_trials, "releases_not_once": 0,
            "left_not_once": 0, "seconds": round(time.monotonic() - t0, 1)}  # fmt: skip


def _threads_of_others(sb: Sandbox, keep: set[int]) -> list[int]:
    return [t.tid for t in sb.sup.tracer.threads.values() if t.tgid not in keep]


def hostile(progs: Programs, scale: Scale, mode: str) -> dict[str, Any]:
    """Run a hostile program next to two chatting members: it ends (or is ended
    by a bounded timeout), the supervisor forgets all its threads, and the two
    members, and a newcomer, still chat."""
    room = Chatroom()
    t0 = time.monotonic()
    codes: list[int] = []
    with Sandbox([room], trace=False, process_limit=512) as sb:
        a = sb.spawn([progs("joinchat"), "A"])
        a.expect("You joined as A\n", scale.timeout)
        b = sb.spawn([progs("joinchat"), "B"])
        b.expect("You joined as B\n", scale.timeout)
        keep = {a.pid, b.pid}
        for r in range(scale.hostile_rounds):
            h = sb.spawn([progs("hostile"), mode])
            code = h.wait(scale.timeout)
            codes.append(code)
            if mode == "crash":
                assert code == 128 + signal.SIGSEGV, (code, h.output, h.stderr)
            else:
                assert code == 0 and "done\n" in h.output, (code, h.output, h.stderr)
            forgotten = sb.serve_until(lambda: not _threads_of_others(sb, keep), scale.timeout)
            assert forgotten, f"threads still in the tracer's table: {_threads_of_others(sb, keep)}"
            # A and B have read the program's flood (drop-newest would drop a message
            # to a full queue) before they chat
            assert sb.serve_until(lambda: _drained(room, ("A", "B")), scale.timeout)
            a.sendline(f"round {r}")
            b.expect(f"A: round {r}\n", scale.timeout)
            b.sendline(f"back {r}")
            a.expect(f"B: back {r}\n", scale.timeout)
        late = sb.spawn([progs("joinchat"), "LATE"])
        late.expect("You joined as LATE\n", scale.timeout)
        late.sendline("hello after the storm")
        a.expect("LATE: hello after the storm\n", scale.timeout)
        b.expect("LATE: hello after the storm\n", scale.timeout)
        for p in (a, b, late):
            p.sendline("Bye!")
            assert p.wait(scale.timeout) == 0
        assert sb.settle(scale.timeout), "the supervisor still has programs"
        assert not sb.sup.vfs.files, f"open files left: {list(sb.sup.vfs.files.values())}"
        last = h.output.strip().splitlines()
    return {"mode": mode, "rounds": scale.hostile_rounds, "exit": sorted(set(codes)),
            "said": [line for line in last if line != "done"][:6],
            "seconds": round(time.monotonic() - t0, 1)}  # fmt: skip


FUZZ_TOTAL = re.compile(r"total calls=(\d+) bad=(\d+) died=(\d+)")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ptsandbox", *args]


def _status(ns: str, timeout: float) -> dict[str, Any]:
    out = subprocess.run(
        _cli("status", "-n", ns, "--json"), capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, f"status --json failed: {out.stderr.strip()}"
    status: dict[str, Any] = json.loads(out.stdout)
    return status


class _Member:
    """joinchat in a namespace, through `ptsandbox run` (as a user would)."""

    def __init__(self, progs: Programs, ns: str, name: str, timeout: float) -> None:
        self.timeout = timeout
        self.p = subprocess.Popen(
            _cli("run", "-n", ns, progs("joinchat"), name),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.out = b""
        self.expect(f"You joined as {name}")

    def expect(self, text: str) -> None:
        assert self.p.stdout is not None
        fd = self.p.stdout.fileno()
        want = f"{text}\n".encode()
        deadline = time.monotonic() + self.timeout
        while want not in self.out:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"{text!r} never came; got {self.out[-500:]!r}")
            self.out += chunk
        self.out = self.out[self.out.index(want) + len(want) :]

    def say(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def bye(self) -> int:
        self.say("Bye!")
        return self.p.wait(self.timeout)


def fuzz(progs: Programs, scale: Scale) -> dict[str, Any]:
    """Random syscalls with hostile arguments on device fds from several
    processes x threads, in a shared namespace; then the namespace still
    answers `status --json` (same supervisor) and a fresh client chats."""
    ns = f"torture-fuzz-{os.getpid()}"
    keep = _Member(progs, ns, "KEEP", scale.timeout)  # holds the namespace up across the fuzz
    try:
        before = _status(ns, scale.timeout)
        t0 = time.monotonic()
        run = subprocess.run(
            _cli("run", "-n", ns, progs("fuzz"), str(scale.seed), str(int(scale.fuzz_seconds)),
                 str(scale.fuzz_procs), str(scale.fuzz_threads)),
            capture_output=True, text=True, timeout=scale.fuzz_seconds + scale.timeout,
        )  # fmt: skip
        elapsed = time.monotonic() - t0
        m = FUZZ_TOTAL.search(run.stdout)
        assert m is not None, f"fuzz gave no total (exit {run.returncode}): {run.stderr[-2000:]}"
        calls, bad, died = map(int, m.groups())
        bad_lines = [line for line in run.stdout.splitlines() if line.startswith("BAD")]
        assert bad == 0 and died == 0, f"{bad} bad results, {died} died: {bad_lines[:20]}"
        assert calls > 0 and run.returncode == 0, run.stdout[-2000:]
        after = _status(ns, scale.timeout)
        assert after["pid"] == before["pid"], "the namespace's supervisor was replaced"
        fresh = _Member(progs, ns, "FRESH", scale.timeout)
        fresh.say("still chatting after the fuzz")
        keep.expect("FRESH: still chatting after the fuzz")
        assert fresh.bye() == 0
    finally:
        code = keep.bye()
    assert code == 0
    log = Path(_runtime_dir()) / f"{ns}.log"
    tracebacks = log.read_text().count("Traceback") if log.exists() else 0
    assert tracebacks == 0, f"the supervisor logged {tracebacks} tracebacks: {log}"
    per_proc = [int(x) for x in re.findall(r"^proc \d+ calls=(\d+)", run.stdout, re.M)]
    return {"seed": scale.seed, "processes": scale.fuzz_procs, "threads": scale.fuzz_threads,
            "seconds": round(elapsed, 1), "calls": calls, "calls_per_process": per_proc,
            "bad": bad, "died": died, "tracebacks": tracebacks,
            "status_after": "answered, same supervisor", "fresh_client": "chatted"}  # fmt: skip


def _runtime_dir() -> str:
    from ptsandbox.namespace import runtime_dir

    return str(runtime_dir())
