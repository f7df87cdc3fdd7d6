"""`grade` contains hostile submissions: each is graded normally, and nothing it
tries reaches the machine (tests/fixtures/hostile/chatroom/*/README.txt).

The fixtures aim only at what this test owns: files in its temp dirs, a name
in /tmp unique to this run, listeners on loopback addresses, one victim
process named by pid. If containment ever broke, the damage would stay there.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from ptsandbox.grading import contain
from ptsandbox.grading.model import SubmissionResult
from ptsandbox.grading.runner import grade_submission
from ptsandbox.grading.suites import ASSIGNMENTS

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests/fixtures/hostile/chatroom"

os.environ.setdefault("PTSANDBOX_GRADE_TIME_SCALE", "0.5")

# every hostile action runs at each client's start: these two cover P1..P3
SUBSET = ("broadcast_to_all_others", "end_of_input_exits")

pytestmark = pytest.mark.skipif(
    contain.unavailable() is not None, reason=f"no sandbox here: {contain.unavailable()}"
)


@dataclasses.dataclass
class Bait:
    """What the hostile fixtures aim at, all owned by this test."""

    mark: str
    home: Path
    parent: Path
    secrets: list[str]
    listeners: list[socket.socket]
    victim: subprocess.Popen[bytes]

    def targets_h(self) -> str:
        port = self.listeners[0].getsockname()[1]
        return (
            f'#define HOME_DIR "{self.home}"\n'
            f'#define TMP_NAME "{self.mark}"\n'
            f'#define PARENT_DIR "{self.parent}"\n'
            f'#define SECRET_FILE "{self.home / ".secret"}"\n'
            f"#define LISTEN_PORT {port}\n"
            f"#define VICTIM_PID {self.victim.pid}\n"
            f'#define MARK "{self.mark}"\n'
        )


@contextlib.contextmanager
def bait(tmp_path: Path) -> Iterator[Bait]:
    mark = f"ptsandbox-hostile-{uuid.uuid4().hex[:12]}"
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    secrets = [f"secret-{uuid.uuid4().hex}", f"key-{uuid.uuid4().hex}"]
    for path, text in ((home / ".secret", secrets[0]), (home / ".ssh/id_rsa", secrets[1])):
        path.write_text(text + "\n")
        path.chmod(0o600)
    tcp = socket.create_server(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    listeners = [tcp]
    for family, addr in ((socket.AF_INET, "127.0.0.2"), (socket.AF_INET6, "::1")):
        with contextlib.suppress(OSError):  # no 127.0.0.2 or no IPv6 here: fewer baits
            listeners.append(socket.create_server((addr, port), family=family))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind("\0" + mark)
    unix.listen()
    listeners += [udp, unix]
    victim = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(3600)"])
    try:
        yield Bait(mark, home, tmp_path / "class", secrets, listeners, victim)
    finally:
        victim.kill()
        victim.wait()
        for s in listeners:
            s.close()
        for leaked in Path("/tmp").glob(f"{mark}*"):  # only if containment broke
            shutil.rmtree(leaked, ignore_errors=True)
            leaked.unlink(missing_ok=True)


def snapshot(*dirs: Path) -> set[str]:
    return {str(p) for d in dirs for p in d.rglob("*")}


def leftovers(mark: str, tmp_path: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.pid != os.getpid() and (mark in cmdline or str(tmp_path) in cmdline):
            found.append(f"{proc.pid}: {cmdline}")
    return found


def test_hostile_submissions_are_graded_and_contained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chatroom = ASSIGNMENTS["chatroom"]
    subset = dataclasses.replace(
        chatroom, scenarios=tuple(s for s in chatroom.scenarios if s.name in SUBSET)
    )
    with bait(tmp_path) as b:
        names = sorted(p.name for p in HOSTILE.iterdir() if p.is_dir())
        for name in names:
            shutil.copytree(HOSTILE / name, b.parent / name)
            (b.parent / name / "targets.h").write_text(b.targets_h())
        work = tmp_path / "work"  # the grader's own work dirs go here
        work.mkdir()
        monkeypatch.setenv("TMPDIR", str(work))
        monkeypatch.setenv("HOME", str(b.home))
        before = snapshot(b.home, b.parent)
        # in-process workers, so that the subset applies (`grade` runs the whole suite)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:

            def grade(name: str) -> SubmissionResult:
                return grade_submission(str(b.parent / name), subset, part="client")

            results = list(pool.map(grade, names))

        by_name = {Path(r.submission).name: r for r in results}
        everything = json.dumps([r.to_dict() for r in results])
        assert "HOSTILE OK" not in everything  # no trick worked from inside
        for secret in b.secrets:
            assert secret not in everything
        for name, result in by_name.items():
            assert any("built by the submission's Makefile" in line for line in result.build_log)
            failed = {s.name for s in result.scenarios if not s.passed}
            if name == "fork_bomb":  # the limit stops it; only P3's scenario is lost
                assert failed == {"broadcast_to_all_others"}, _show(result)
                [lost] = [s for s in result.scenarios if not s.passed]
                assert "processes" in lost.message
            else:
                assert result.full_marks, _show(result)

        assert snapshot(b.home, b.parent) == before  # nothing new in $HOME, the class folder
        assert not list(Path("/tmp").glob(f"{b.mark}*"))  # nor in the host's /tmp
        assert not list(work.iterdir())  # the grader's work dirs are gone too
        for listener in b.listeners:  # no connection, no datagram, anywhere
            listener.setblocking(False)
            with pytest.raises(BlockingIOError):
                if listener.type == socket.SOCK_DGRAM:
                    listener.recv(100)
                else:
                    listener.accept()
        assert b.victim.poll() is None  # alive, and never stopped
        assert psutil.Process(b.victim.pid).status() != psutil.STATUS_STOPPED
        assert leftovers(b.mark, tmp_path) == []  # no daemon, no bomb, no make child


def _show(result: SubmissionResult) -> str:
    return "\n".join(f"{s.name}: {s.passed} {s.message}" for s in result.scenarios)


def _contained(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv, fds = contain.bwrap_argv(
        ["sh", "-c", script], cwd=cwd, scratch=[(cwd, contain.SCRATCH_BYTES)]
    )
    try:
        return subprocess.run(argv, pass_fds=fds, capture_output=True, text=True, timeout=60)
    finally:
        for fd in fds:
            os.close(fd)


def test_the_sandbox_shows_a_read_only_system_and_nothing_personal(tmp_path: Path) -> None:
    inside = tmp_path / "scenario"
    inside.mkdir()
    r = _contained(
        """
        echo "uid: $(id -u)"
        for d in /root /home /etc /; do echo "$d: $(ls -A $d 2>/dev/null | tr '\\n' ' ')"; done
        for d in /usr / /etc /dev; do touch $d/x 2>/dev/null && echo "write $d: yes"; done
        echo "shm: $(df -k /dev/shm | tail -1 | awk '{print $2}')"
        echo hi > here && echo "cwd: writable"
        echo hi > /tmp/x && echo "tmp: writable"
        echo "ifaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')"
        echo "HOME: $HOME"
        """,
        inside,
    )
    assert r.returncode == 0, r.stderr
    seen = {k: v.split() for k, _, v in (line.partition(": ") for line in r.stdout.splitlines())}
    assert seen["uid"] == [str(contain.UID)]
    # /root and /home hold at most the way to the Python running ptsandbox
    binds, _ = contain.python_paths()
    for top in ("/root", "/home"):
        allowed = {p.parts[2] for p in binds if str(p).startswith(top + "/")}
        assert set(seen[top]) <= allowed, (top, seen[top])
    assert "shadow" not in seen["/etc"] and "ssh" not in seen["/etc"]
    assert {"passwd", "ld.so.cache"} <= set(seen["/etc"])
    assert "sys" not in seen["/"] and "usr" in seen["/"]
    assert not [k for k in seen if k.startswith("write")]  # /usr, /, /etc, /dev: read-only
    assert seen["shm"] == [str(contain.SHM_BYTES >> 10)]
    assert seen["cwd"] == ["writable"] and seen["tmp"] == ["writable"]
    assert seen["ifaces"] == ["lo"]  # no network but its own loopback
    assert seen["HOME"] == [str(inside)]
    assert not list(inside.iterdir())  # its writes stayed in its tmpfs


def test_grade_refuses_without_bubblewrap_unless_no_contain(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=str(tmp_path))
    good = ROOT / "tests/fixtures/submissions/chatroom/good"
    grade = [sys.executable, "-m", "ptsandbox", "grade", str(good), "-a", "chatroom"]
    r = subprocess.run(grade, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "bubblewrap" in r.stderr
    assert "--no-contain" in r.stderr
    r = subprocess.run(
        [*grade, "--no-contain"], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 1 and "gcc not found" in r.stdout  # graded (no gcc on this PATH)
    fake = tmp_path / "bwrap"  # a bwrap that user namespaces are denied to
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    r = subprocess.run(grade, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "uid map: Permission denied" in r.stderr and "user namespaces" in r.stderr


def test_run_contain_keeps_the_current_directory_writable_and_nothing_else(
    tmp_path: Path,
) -> None:
    home, here = tmp_path / "home", tmp_path / "here"
    home.mkdir()
    here.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(home))
    script = 'echo x > "$1/pwned"; echo kept > result; id -u > uid; exit 7'
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "run", "--contain", "sh", "-c", script, "sh",
         str(home)],
        cwd=here, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert r.returncode == 7, r.stderr
    assert (here / "result").read_text() == "kept\n"
    assert (here / "uid").read_text() == f"{contain.UID}\n"
    assert not list(home.iterdir()) and "cannot create" in r.stderr


def _wait_for(condition: Callable[[], bool], timeout: float = 120) -> bool:
    """Poll for an event we cannot be told about (another namespace's process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_nothing_outlives_a_killed_grader(tmp_path: Path) -> None:
    """Kill `grade` while a scenario waits for a client that will never answer
    (time scale 100: it would wait 1000 s): its worker, the sandbox and the
    client's daemon go at once."""
    with bait(tmp_path) as b:
        sub = b.parent / "daemons"
        shutil.copytree(HOSTILE / "daemons", sub)
        (sub / "targets.h").write_text(b.targets_h())
        tricks = (sub / "tricks.h").read_text()
        (sub / "tricks.h").write_text(
            tricks.replace(
                "    waitpid(pid, NULL, 0);\n",
                "    waitpid(pid, NULL, 0);\n    for (;;)\n        pause();\n",
            )
        )
        (tmp_path / "work").mkdir()
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            HOME=str(b.home),
            TMPDIR=str(tmp_path / "work"),
            PTSANDBOX_GRADE_TIME_SCALE="100",
        )
        grader = subprocess.Popen(
            [sys.executable, "-m", "ptsandbox", "grade", str(sub), "-a", "chatroom",
             "-p", "client"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            client_daemon = f"done # {b.mark}"  # not the Makefile's (`# MARK make`)
            assert _wait_for(
                lambda: any(line.endswith(client_daemon) for line in leftovers(b.mark, tmp_path))
            )
        finally:
            grader.kill()
            grader.wait()
        assert _wait_for(lambda: not leftovers(b.mark, tmp_path)), leftovers(b.mark, tmp_path)
