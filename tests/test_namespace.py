"""Shared namespaces: three terminals, state across runs, status, stop, access."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import psutil
import pytest
from conftest import SLOWDOWN, namespace_supervisors

ROOT = Path(__file__).resolve().parent.parent


def _as_a_foreground_job() -> None:
    # A suite started in the background by a non-interactive shell (a CI step
    # with `&`) inherits SIGINT and SIGQUIT ignored, and Python then never turns
    # Ctrl-C into KeyboardInterrupt; a terminal's shell gives its jobs the defaults.
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


class Namespace:
    """A private runtime directory, so tests never touch the user's namespaces."""

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            PTSANDBOX_RUNTIME_DIR=str(runtime),
            # long enough that a loaded machine's slow CLI start (seconds) never lets a
            # namespace idle out between two commands of a test; `stop` ends it
            PTSANDBOX_IDLE_TIMEOUT=str(30 * SLOWDOWN),
        )

    def cli(
        self, *args: str, stdin: str = "", timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ptsandbox", *args],
            input=stdin, capture_output=True, text=True, timeout=timeout * SLOWDOWN, env=self.env,
        )  # fmt: skip

    def spawn(self, *args: str) -> pexpect.spawn:
        """`ptsandbox ARGS` on a pty of its own (60 x 160), as typed in a terminal."""
        return pexpect.spawn(
            sys.executable,
            ["-m", "ptsandbox", *args],
            env=self.env,
            encoding="utf-8",
            codec_errors="replace",  # a Ctrl-C echo may land inside a multi-byte character
            timeout=20 * SLOWDOWN,
            dimensions=(60, 160),
            preexec_fn=_as_a_foreground_job,
        )

    def status(self) -> dict:
        r = self.cli("status", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def daemons(self) -> list[psutil.Process]:
        return namespace_supervisors(str(self.runtime))

    def wait_until(self, condition, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout * SLOWDOWN
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return False


@pytest.fixture
def ns(tmp_path: Path) -> Iterator[Namespace]:
    space = Namespace(tmp_path / "rt")
    yield space
    space.cli("stop")
    assert space.wait_until(lambda: not space.daemons()), "a namespace supervisor was left"


def test_three_terminals_are_one_chat_room(ns: Namespace, cprog) -> None:
    joinchat = cprog("joinchat")
    p1 = ns.spawn("run", joinchat, "P1")
    p1.expect_exact("You joined as P1")
    p2 = ns.spawn("run", joinchat, "P2")
    p2.expect_exact("You joined as P2")
    p1.expect_exact("P2 joined the room")
    p1.sendline("Hello P2!")
    p2.expect_exact("P1: Hello P2!")
    p2.sendline("Hello back to you P1!")
    p1.expect_exact("P2: Hello back to you P1!")
    p3 = ns.spawn("run", joinchat, "P3")
    p3.expect_exact("You joined as P3")
    p1.expect_exact("P3 joined the room")
    p2.expect_exact("P3 joined the room")
    p3.sendline("Anyone here?")
    p1.expect_exact("P3: Anyone here?")
    p2.expect_exact("P3: Anyone here?")
    p1.sendline("Bye!")
    p1.expect(pexpect.EOF)
    p2.expect_exact("P1 left")
    p3.expect_exact("P1 left")
    for p in (p2, p3):
        p.sendline("Bye!")
        p.expect(pexpect.EOF)
    for p in (p1, p2, p3):
        p.close()
        assert p.exitstatus == 0


def test_message_slot_messages_survive_between_runs(ns: Namespace, cprog) -> None:
    """The seed's flow, each step a separate `ptsandbox run` (or `ptsandbox mknod`)."""
    r = ns.cli("mknod", "/dev/message_slot", "c", "235", "0")
    assert r.returncode == 0, r.stderr
    r = ns.cli("run", cprog("message_sender"), "2", "kept between runs")
    assert r.returncode == 0 and r.stdout == "Sent 17 bytes to channel 2\n", r.stderr
    assert ns.status()["devices"]["message_slot"]["state"]["slots"]
    r = ns.cli("run", cprog("message_reader"), "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["kept between runs", "Read 128 bytes from channel 2"]
    # a node made by mknod(2) inside one run is there for the next
    assert ns.cli("run", "sh", "-c", "mknod /tmp/ns_slot c 235 1").returncode == 0
    assert ns.cli("run", "test", "-c", "/tmp/ns_slot").returncode == 0


def test_status_shows_members_queues_and_a_blocked_reader(ns: Namespace, cprog) -> None:
    p1 = ns.spawn("run", cprog("joinchat"), "P1")
    p1.expect_exact("You joined as P1")
    p2 = ns.spawn("run", cprog("joinchat"), "P2")
    p2.expect_exact("You joined as P2")
    p1.expect_exact("P2 joined the room")
    p2.sendline("one")
    p1.expect_exact("P2: one")

    def blocked_reader() -> bool:
        s = ns.status()
        return any(b["call"] == "read" for b in s["blocked"])

    assert ns.wait_until(blocked_reader)
    s = ns.status()
    names = {m["name"]: m for m in s["devices"]["chatroom"]["state"]["members"]}
    assert set(names) == {"P1", "P2"}
    assert names["P1"]["received"] >= 2 and names["P2"]["sent"] == 1
    assert all(m["queued"] == 0 for m in names.values())
    assert {f["path"] for f in s["open_files"]} == {"/dev/chatroom"}
    text = ns.cli("status")
    assert text.returncode == 0 and "chatroom members" in text.stdout
    for p in (p1, p2):
        p.sendline("Bye!")
        p.expect(pexpect.EOF)


def test_trace_shows_the_calls_with_decoded_arguments(ns: Namespace, cprog, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    p = ns.spawn("run", f"--trace={trace}", cprog("joinchat"), "P1")
    p.expect_exact("You joined as P1")
    # the reader thread's read is in the trace only once it was called: input sent
    # at once could make the main thread exit first (seen on a loaded machine)
    assert ns.wait_until(lambda: any(b["call"] == "read" for b in ns.status()["blocked"]))
    p.sendline("hello")
    p.sendline("Bye!")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0
    text = trace.read_text()
    assert 'openat("/dev/chatroom", O_RDWR) = 3' in text
    assert 'ioctl(3</dev/chatroom>, CHATROOM_IOC_SET_NAME, "P1") = 0' in text
    assert 'write(3</dev/chatroom>, "hello", 5) = 5' in text
    assert "read(3</dev/chatroom>, " in text
    r = ns.cli("run", "--trace", "--trace-format", "jsonl", cprog("nonblock"))
    records = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    failed = [x for x in records if x.get("errno") == "EAGAIN"]
    assert failed and failed[0]["syscall"] == "read" and failed[0]["result"] == -1


def test_idle_namespace_exits_and_no_supervisor_remains(ns: Namespace) -> None:
    ns.env["PTSANDBOX_IDLE_TIMEOUT"] = "1"
    assert ns.cli("run", "true").returncode == 0
    assert ns.wait_until(lambda: not ns.daemons(), timeout=30)


def test_supervisor_killed_ends_its_programs_and_next_run_starts_clean(
    ns: Namespace, cprog
) -> None:
    p = ns.spawn("run", cprog("joinchat"), "P1")
    p.expect_exact("You joined as P1")
    [daemon] = ns.daemons()
    daemon.send_signal(signal.SIGKILL)
    p.expect(pexpect.EOF)  # EXITKILL: the client ended, nothing hangs
    p.close()
    assert p.exitstatus == 128 + signal.SIGKILL or p.signalstatus == signal.SIGKILL
    r = ns.cli("run", cprog("joinchat"), "P2", stdin="Bye!\n")
    assert r.returncode == 0 and "You joined as P2" in r.stdout


def test_lifecycle_insmod_rmmod_lsmod(ns: Namespace, cprog) -> None:
    r = subprocess.run(  # a relative path, from the repository's root
        [sys.executable, "-m", "ptsandbox", "insmod", "tests/devices/rawdev.py:RawDevice",
         "read_returns=3"],
        capture_output=True, text=True, timeout=60 * SLOWDOWN, env=ns.env, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0 and "loaded" in r.stdout, r.stderr
    assert "rawdev" in ns.cli("lsmod").stdout
    p = ns.spawn("run", cprog("joinchat"), "P1")
    p.expect_exact("You joined as P1")
    busy = ns.cli("rmmod", "chatroom")
    assert busy.returncode == 1 and "Device or resource busy" in busy.stderr
    p.sendline("Bye!")
    p.expect(pexpect.EOF)
    assert ns.wait_until(lambda: ns.cli("rmmod", "chatroom").returncode == 0)
    assert "chatroom" not in ns.cli("lsmod").stdout
    again = ns.cli("insmod", "rawdev")
    assert again.returncode == 1


def test_a_sandboxed_program_cannot_change_the_namespace(ns: Namespace) -> None:
    # a node is state: the namespace does not exit idle before lsmod looks
    assert ns.cli("mknod", "/tmp/keep_node", "c", "235", "0").returncode == 0
    script = f"{sys.executable} -m ptsandbox rmmod mq"
    r = ns.cli("run", "sh", "-c", script)
    assert r.returncode == 1 and "sandboxed program cannot" in r.stderr
    assert "mq" in ns.cli("lsmod").stdout


def test_another_uid_cannot_reach_the_namespace(ns: Namespace) -> None:
    # a node made by mknod is state: the namespace stays up while we probe it
    assert ns.cli("mknod", "/tmp/uid_probe", "c", "235", "0").returncode == 0
    path = ns.runtime / "default.sock"
    assert path.exists()
    assert (ns.runtime.stat().st_mode & 0o777) == 0o700
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        import socket

        code = 3
        try:
            os.setgid(65534)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(str(path))
                s.sendall(b'{"op": "status"}\n')
                reply = s.recv(4096)
                code = 0 if b"permission denied" in reply else 1
            except PermissionError:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_concurrent_starts_make_one_namespace(ns: Namespace) -> None:
    """Four commands racing to start the namespace: one supervisor serves them all."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ptsandbox", "mknod", f"/tmp/race{i}", "c", "235", str(i)],
            env=ns.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=60 * SLOWDOWN)
        assert p.returncode == 0, err
    assert len(ns.daemons()) == 1
    nodes = ns.status()["devices"]["message_slot"]["nodes"]
    assert nodes == [f"/tmp/race{i}" for i in range(4)]


def test_dmesg_shows_device_log_lines(ns: Namespace, cprog) -> None:
    # the node first: it keeps the namespace (and its log) up between the commands
    assert ns.cli("mknod", "/tmp/dmesg_node", "c", "235", "0").returncode == 0
    assert ns.cli("run", cprog("joinchat"), "P1", stdin="Bye!\n").returncode == 0
    r = ns.cli("dmesg")
    assert r.returncode == 0
    assert re.search(r"^\[\d\d:\d\d:\d\d\.\d{3}\] chatroom: member 1 joined", r.stdout, re.M)
    assert "chatroom: member 1 (P1) left" in r.stdout


def test_status_watch_refreshes_until_ctrl_c(ns: Namespace, cprog) -> None:
    assert ns.cli("mknod", "/tmp/watch_node", "c", "235", "0").returncode == 0
    watch = ns.spawn("status", "--watch")
    watch.expect_exact("devices")
    p = ns.spawn("run", cprog("joinchat"), "WATCHED")
    p.expect_exact("You joined as WATCHED")
    watch.expect_exact("WATCHED")  # a later refresh shows the new member
    watch.sendcontrol("c")
    watch.expect(pexpect.EOF)
    watch.close()
    p.sendline("Bye!")
    p.expect(pexpect.EOF)


def _daemon_start_hook(tmp_path: Path, action: str) -> str:
    """A PYTHONPATH whose sitecustomize runs `action` in `ptsandbox daemon` only."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import os, time\n"
        'if b"daemon" in open("/proc/self/cmdline", "rb").read().split(b"\\0"):\n'
        f"    {action}\n"
    )
    return f"{site}:{ROOT}"


def test_a_slow_supervisor_start_is_waited_for(ns: Namespace, tmp_path: Path) -> None:
    """A supervisor that listens only after 16 s (longer than the fixed 15 s the
    starter used to wait; an emulated VM's imports alone took ~20 s) still serves."""
    ns.env["PYTHONPATH"] = _daemon_start_hook(tmp_path, "time.sleep(16)")
    r = ns.cli("run", "true", timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(ns.daemons()) == 1


def test_a_supervisor_that_dies_at_start_is_reported_without_waiting(
    ns: Namespace, tmp_path: Path
) -> None:
    from ptsandbox.namespace import START_TIMEOUT

    ns.env["PYTHONPATH"] = _daemon_start_hook(tmp_path, "os._exit(3)")
    start = time.monotonic()
    r = ns.cli("run", "true")
    assert r.returncode != 0 and "namespace default did not start" in r.stderr
    assert time.monotonic() - start < START_TIMEOUT / 2
    assert not ns.daemons()
