"""A new user's first hour (issue 17): the documented flows and their output,
through the CLI, each in a private runtime directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from test_namespace import Namespace

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ns(tmp_path: Path) -> Iterator[Namespace]:
    space = Namespace(tmp_path / "rt")
    yield space
    space.cli("stop")
    assert space.wait_until(lambda: not space.daemons()), "a namespace supervisor was left"


# -- the documented flows -------------------------------------------------------------


def test_instructor_flow_insmod_with_parameters_replaces_the_idle_built_in(
    ns: Namespace, cprog
) -> None:
    seed = ns.cli("insmod", "message_slot", "profile=seed")
    assert seed.returncode == 0
    assert "message_slot: already loaded with these parameters (major 235)" in seed.stdout
    tau = ns.cli("insmod", "message_slot", "profile=tau")
    assert tau.returncode == 0 and "message_slot: replaced (major 235)" in tau.stdout, tau.stderr
    assert ns.status()["devices"]["message_slot"]["params"]["profile"] == "tau"
    assert "message_slot: loaded (major 235; profile=tau)" in ns.cli("dmesg").stdout
    assert ns.cli("mknod", "/dev/message_slot", "c", "235", "0").returncode == 0
    sent = ns.cli("run", cprog("tau/message_sender"), "/dev/message_slot", "7", "kept")
    assert sent.returncode == 0, sent.stderr
    busy = ns.cli("insmod", "message_slot", "profile=seed")
    assert busy.returncode == 1 and len(busy.stderr.strip().splitlines()) == 1
    assert "profile=tau, asked seed" in busy.stderr and "busy: it holds state" in busy.stderr
    assert "ptsandbox stop" in busy.stderr  # what to do
    status = ns.status()
    assert status["devices"]["message_slot"]["params"]["profile"] == "tau"
    assert status["devices"]["message_slot"]["nodes"] == ["/dev/message_slot"]  # kept
    shown = ns.cli("status")
    assert "/dev/message_slot" in shown.stdout and "slot (node)" in shown.stdout


def test_run_device_with_other_parameters_replaces_an_idle_device_and_refuses_a_busy_one(
    ns: Namespace, cprog
) -> None:
    p1 = ns.spawn("run", "--device", "chatroom,queue_len=4", cprog("joinchat"), "P1")
    p1.expect_exact("You joined as P1")  # the namespace's idle default chat room was replaced
    assert ns.status()["devices"]["chatroom"]["params"]["queue_len"] == 4
    busy = ns.cli("run", "--device", "chatroom,queue_len=8", "true")
    assert busy.returncode == 2 and "queue_len=4, asked 8" in busy.stderr
    assert "1 open file(s)" in busy.stderr and len(busy.stderr.strip().splitlines()) == 1
    same = ns.cli("run", "--device", "chatroom,queue_len=4", "true")  # what is loaded: fine
    assert same.returncode == 0, same.stderr
    p1.sendline("Bye!")
    p1.expect(pexpect.EOF)


def test_run_device_from_a_file_works_in_a_shared_namespace_and_twice(ns: Namespace) -> None:
    spec = f"{ROOT}/examples/chatroom_read_zero.py:ReadZeroChatroom"
    script = "import os; print(len(os.read(os.open('/dev/chatroom', os.O_RDWR), 64)))"
    for _ in range(2):
        r = ns.cli("run", "--device", spec, sys.executable, "-c", script)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "0\n"  # the variant's read: 0 instead of sleeping


def test_version_and_short_help() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = [sys.executable, "-m", "ptsandbox"]
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and re.fullmatch(r"ptsandbox \d+\.\d+\S*\n", version.stdout)
    short = subprocess.run([*run, "-h"], capture_output=True, text=True, env=env)
    assert short.returncode == 0 and "record" in short.stdout and "replay" in short.stdout
    grade = subprocess.run([*run, "grade", "-h"], capture_output=True, text=True, env=env)
    assert "0 (the default): half the CPUs" in " ".join(grade.stdout.replace("│", " ").split())


# -- output ----------------------------------------------------------------------------


def test_devices_at_80_columns_cuts_no_allowed_value_and_shows_ioctls_in_hex() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="80")
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "devices"], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0 and "…" not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    words = set(re.findall(r"[\w-]+", r.stdout))
    assert {"drop-newest", "drop-oldest", "block", "rendezvous", "queued"} <= words
    assert "0x4008eb00" in r.stdout and "1074326272" not in r.stdout


def test_stop_twice_says_not_running_and_leaves_no_files(ns: Namespace) -> None:
    assert ns.cli("mknod", "/tmp/first_hour_node", "c", "235", "0").returncode == 0
    assert {p.suffix for p in ns.runtime.iterdir()} == {".sock", ".lock", ".log"}
    first = ns.cli("stop")
    assert first.returncode == 0 and "stopped" in first.stdout
    assert ns.wait_until(lambda: not ns.daemons())
    second = ns.cli("stop")
    assert second.returncode == 0 and "namespace default is not running" in second.stdout
    assert list(ns.runtime.iterdir()) == []


def test_a_failed_insmod_leaves_no_namespace_started(ns: Namespace) -> None:
    bad = ns.cli("insmod", "-n", "X", "message_slot", "profile=nope")
    assert bad.returncode == 1 and "profile=nope is not one of" in bad.stderr
    bad = ns.cli("insmod", "-n", "X", "rawdev")
    assert bad.returncode == 1 and "unknown device" in bad.stderr
    assert not ns.daemons() and not list(ns.runtime.glob("X.*"))


def test_status_shows_a_program_stopped_by_ctrl_z(ns: Namespace, cprog) -> None:
    # a shell with job control: Ctrl-Z to an orphaned process group would be ignored
    env = dict(ns.env, PS1="PROMPT$ ")
    sh = pexpect.spawn(
        "bash", ["--norc", "--noprofile", "-i"], env=env, encoding="utf-8", timeout=20,
        dimensions=(50, 160),
    )  # fmt: skip
    try:
        sh.expect_exact("PROMPT$ ")
        sh.sendline(f"{sys.executable} -m ptsandbox run {cprog('joinchat')} P1")
        sh.expect_exact("P1> ")
        sh.sendcontrol("z")
        sh.expect("Stopped")
        sh.expect_exact("PROMPT$ ")
        assert [x["stopped"] for x in ns.status()["programs"]] == [True]
        assert "│ stopped │" in ns.cli("status").stdout
        sh.sendline("fg")
        sh.expect("joinchat")
        assert ns.wait_until(lambda: [x["stopped"] for x in ns.status()["programs"]] == [False])
        sh.sendline("Bye!")
        sh.expect_exact("PROMPT$ ")
        sh.sendline("exit")
        sh.expect(pexpect.EOF)
    finally:
        sh.close(force=True)


# -- traces ----------------------------------------------------------------------------


def test_trace_shows_unfinished_and_resumed_reads_with_timestamps_and_durations(
    ns: Namespace, cprog
) -> None:
    p1 = ns.spawn("run", "-tt", "-T", "-e", "trace=ioctl,read", cprog("joinchat"), "P1")
    stamp = r"\d\d:\d\d:\d\d\.\d{6}"
    p1.expect(rf"\[pid \d+\] {stamp} ioctl\(3</dev/chatroom>, CHATROOM_IOC_SET_NAME, \"P1\"\)"
              r" = 0 <\d+\.\d{6}>")  # fmt: skip
    p1.expect(rf"\[pid (\d+)\] {stamp} read\(3</dev/chatroom>, <unfinished \.\.\.>")
    reader = p1.match.group(1)
    assert ns.cli("run", cprog("joinchat"), "P2", stdin="Bye!\n").returncode == 0
    p1.expect(rf"\[pid {reader}\] {stamp} <\.\.\. read resumed> \"P2 joined the room\", 1119\)"
              r" = 18 <\d+\.\d{6}>")  # fmt: skip
    p1.sendline("Bye!")
    p1.expect(r"\+\+\+ exited with 0 \+\+\+")
    p1.expect(pexpect.EOF)
    assert "openat(" not in p1.before and "write(" not in p1.before  # -e trace=ioctl,read


def test_trace_of_a_killed_program_and_of_an_unnamed_ioctl(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = (
        "import fcntl, os\n"
        "fd = os.open('/dev/chatroom', os.O_RDWR)\n"
        "try:\n    fcntl.ioctl(fd, 0x40086b07, b'12345678')\nexcept OSError:\n    pass\n"
        "os.kill(os.getpid(), 9)\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "run", "--private", "--trace", sys.executable,
         "-c", script],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert r.returncode == 128 + 9
    assert "ioctl(3</dev/chatroom>, _IOC(_IOC_WRITE, 0x6b, 0x7, 0x8), 0x" in r.stderr
    assert "= -1 ENOTTY (Inappropriate ioctl for device)" in r.stderr
    assert re.search(r"^\[pid \d+\] \+\+\+ killed by SIGKILL \+\+\+$", r.stderr, re.M)


def test_trace_format_jsonl_alone_turns_the_trace_on_with_structured_records(cprog) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "run", "--private", "--trace-format", "jsonl",
         cprog("joinchat"), "P1"],
        input="hi\nBye!\n", capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stderr.splitlines()]
    ioctl = next(x for x in records if x.get("syscall") == "ioctl")
    assert ioctl["args"] == [
        {"fd": 3, "path": "/dev/chatroom"},
        {"value": 0x40206B01, "name": "CHATROOM_IOC_SET_NAME"},
        "P1",
    ]
    assert ioctl["result"] == 0 and ioctl["errno"] is None and ioctl["duration"] >= 0
    assert {"time", "pid", "tid", "kind"} <= set(ioctl)
    write = next(x for x in records if x.get("syscall") == "write")
    assert write["args"][1:] == ["hi", 2] and write["result"] == 2
    assert records[-1] == {**records[-1], "kind": "exit", "exit_code": 0}
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "run", "--private", "--trace-format", "jsonl",
         cprog("nonblock")],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    read = next(json.loads(x) for x in r.stderr.splitlines() if '"read"' in x)
    assert read["kind"] == "call" and read["result"] == -1 and read["errno"] == "EAGAIN"
    assert read["args"][0] == {"fd": 3, "path": "/dev/chatroom"} and read["blocked"] is False


def test_a_bad_trace_filter_is_one_line() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "run", "--private", "-e", "signal=none", "true"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and "only trace=NAME" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# -- the docs --------------------------------------------------------------------------


def test_the_docs_name_only_files_that_exist() -> None:
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in texts:
        for name in re.findall(
            r"`((?:[\w.-]+/)+[\w.-]+\.(?:md|py|c|h|txt|sh|yml))", doc.read_text()
        ):
            if name.startswith(("mydevices", "mypackage", "/")) or "*" in name:
                continue
            assert (ROOT / name).exists(), f"{doc.name} names {name}, which does not exist"


def test_the_example_line_count_is_the_same_everywhere() -> None:
    lines = len((ROOT / "examples/chatroom_read_zero.py").read_text().splitlines())
    for doc in (ROOT / "README.md", ROOT / "docs/devices.md"):
        for said in re.findall(r"chatroom_read_zero\.py`?\D{0,40}?(\d+) lines", doc.read_text()):
            assert int(said) == lines, f"{doc.name} says {said} lines, the file has {lines}"
