"""The command line: exit codes, one-line errors, --stats, --trace, demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def ptsandbox(*args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI; `run` gets --private: namespaces have their own tests."""
    if args and args[0] == "run":
        args = ("run", "--private", *args[1:])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "ptsandbox", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def test_exit_status_is_the_programs() -> None:
    assert ptsandbox("run", "sh", "-c", "exit 7").returncode == 7


def test_killed_by_signal_exits_128_plus_n() -> None:
    assert ptsandbox("run", "sh", "-c", "kill -TERM $$").returncode == 128 + 15


def test_missing_program_is_127_with_one_line(tmp_path: Path) -> None:
    r = ptsandbox("run", str(tmp_path / "nope"))
    assert r.returncode == 127
    assert r.stderr.strip().count("\n") == 0 and "No such file" in r.stderr


def test_not_executable_is_126(tmp_path: Path) -> None:
    f = tmp_path / "data.txt"
    f.write_text("x")
    r = ptsandbox("run", str(f))
    assert r.returncode == 126 and "Permission denied" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_device_and_bad_parameter_are_one_line_errors() -> None:
    for spec, words in (
        ("nosuch", "unknown device"),
        ("chatroom,queue_len=0", "below the minimum"),
        ("chatroom,colour=red", "no parameter"),
        ("chatroom,full=sometimes", "not one of"),
        ("chatroom,queue_len", "KEY=VALUE"),
    ):
        r = ptsandbox("run", "--device", spec, "true")
        assert r.returncode == 2, spec
        assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_device_path_parameter_moves_the_node(cprog) -> None:
    r = ptsandbox(
        "run", "--device", "chatroom,path=/dev/chat_room", "sh", "-c",
        "test -c /dev/chat_room && ! test -e /dev/chatroom",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr


def test_stats_counts_the_stops(cprog) -> None:
    r = ptsandbox("run", "--stats", cprog("storm"), "20000")
    assert r.returncode == 0
    first = r.stderr.splitlines()[0]
    assert first.startswith("ptsandbox: ") and first.endswith("supervisor stops")
    assert int(first.split()[1]) < 20


def test_trace_shows_device_calls_with_errno_names(cprog) -> None:
    r = ptsandbox("run", "--trace", cprog("nonblock"))
    assert r.returncode == 0
    assert '] openat("/dev/chatroom", O_RDWR|O_NONBLOCK) = 3' in r.stderr
    assert "read(3</dev/chatroom>, " in r.stderr
    assert "= -1 EAGAIN (Resource temporarily unavailable)" in r.stderr


def test_joinchat_alone_says_bye(cprog) -> None:
    r = ptsandbox("run", cprog("joinchat"), "P1", stdin="Bye!\n")
    assert r.returncode == 0 and r.stdout == "You joined as P1\n"


def test_demo_prints_the_seed_timeline() -> None:
    r = ptsandbox("demo", "chatroom")
    assert r.returncode == 0, r.stderr
    for text in ("P2 joined the room", "P1: Hello P2!", "P3: Anyone here?", "P1 left"):
        assert text in r.stdout


@pytest.mark.parametrize(
    "name, words",
    [
        (
            "message-slot",
            ["mknod /dev/message_slot c 235 0", "Hello on channel zero", "Invalid argument"],
        ),
        ("mq", ["alice: hi bob, alice here", "carol: hello everyone", "No such file or directory"]),
        ("mailbox", ["mode=rendezvous", "mode=queued", "barrier done: 5 released"]),
    ],
)
def test_each_seed_demo_runs(name: str, words: list[str]) -> None:
    r = ptsandbox("demo", name)
    assert r.returncode == 0, r.stderr
    for w in words:
        assert w in r.stdout, (w, r.stdout)


def test_help_explains_run() -> None:
    r = ptsandbox("run", "--help")
    assert r.returncode == 0 and "--device" in r.stdout and "128+N" in r.stdout


def test_device_from_a_file_can_return_raw_values() -> None:
    spec = f"{ROOT / 'tests/devices/rawdev.py'}:RawDevice"
    script = (
        "import os\n"
        "fd = os.open('/dev/rawdev', os.O_RDWR)\n"
        "print('write', os.write(fd, b'abc'))\n"
        "try:\n    os.read(fd, 5)\nexcept OSError as e:\n    print('read', e.errno)\n"
    )
    r = ptsandbox("run", "--device", spec, sys.executable, "-c", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["write 0", "read 1"]  # -1 reads as EPERM
    r = ptsandbox("run", "--device", spec + ",read_returns=7", sys.executable, "-c",
                  "import os; print(len(os.read(os.open('/dev/rawdev', 0), 100)))")  # fmt: skip
    assert r.stdout.strip() == "7"


def test_device_file_that_does_not_exist_is_one_line() -> None:
    r = ptsandbox("run", "--device", "missing.py:Dev", "true")
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_missing_gcc_is_one_line_for_the_demo() -> None:
    env_cc = dict(os.environ, CC="no-such-gcc-here", XDG_CACHE_HOME="/nonexistent-cache")
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "demo", "chatroom"],
        capture_output=True, text=True, timeout=60,
        env=dict(env_cc, PYTHONPATH=str(ROOT)), cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 1
    assert "gcc not found" in r.stderr and "Traceback" not in r.stderr


FORBID_PTRACE = """
import ctypes, os, struct, sys
from ptsandbox.seccomp import _Asm, RET_ALLOW, RET_ERRNO
a = _Asm()
a.ld(0)
a.jeq(101, 0, "allow")  # ptrace, as a container's default seccomp profile refuses it
a.ret(RET_ERRNO | 1)
a.label("allow")
a.ret(RET_ALLOW)
prog = a.assemble()
buf = ctypes.create_string_buffer(prog, len(prog))
fprog = struct.pack("HxxxxxxQ", len(prog) // 8, ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(38, 1, 0, 0, 0)
assert libc.prctl(22, 2, ctypes.c_char_p(fprog), 0, 0) == 0
os.execv(sys.executable, [sys.executable, "-m", "ptsandbox", *sys.argv[1:]])
"""


def test_a_container_that_forbids_ptrace_is_named_in_one_line() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [sys.executable, "-c", FORBID_PTRACE, "run", "--private", "true"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert r.returncode == 126, r.stderr
    assert "ptrace is not permitted here" in r.stderr and "SYS_PTRACE" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
