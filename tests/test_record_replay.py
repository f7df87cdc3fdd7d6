"""ptsandbox record / replay: a session recorded once is served back to the same
program (same output, no divergence) or to another (each divergence named)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from test_namespace import Namespace


@pytest.fixture
def ns(tmp_path: Path) -> Iterator[Namespace]:
    space = Namespace(tmp_path / "rt")
    yield space
    space.cli("stop")
    assert space.wait_until(lambda: not space.daemons()), "a namespace supervisor was left"


def slot_script(sender: str, reader: str, channel: str, text: str) -> str:
    return f"mknod /dev/message_slot c 235 0; {sender} {channel} {text}; {reader} 1"


def test_a_message_slot_session_replays_to_the_same_programs(
    ns: Namespace, cprog, tmp_path: Path
) -> None:
    session = str(tmp_path / "slot.jsonl")
    script = slot_script(cprog("message_sender"), cprog("message_reader"), "1", "Hello")
    recorded = ns.cli("record", "--private", "--out", session, "--", "sh", "-c", script)
    assert recorded.returncode == 0, recorded.stderr
    assert "Hello" in recorded.stdout and "recorded 9 call(s)" in recorded.stderr
    lines = [json.loads(x) for x in Path(session).read_text().splitlines()]
    assert lines[0]["ptsandbox_record"] == 1 and lines[0]["devices"]["message_slot"]["major"] == 235
    write = next(x for x in lines[1:] if x.get("syscall") == "write")
    assert write["in"] == [[1, 0, "Hello"]] and write["comm"].startswith("message_sender")
    read = next(x for x in lines[1:] if x.get("syscall") == "read")
    assert read["out"][0][2].startswith("Hello\0") and read["result"] == 128

    replayed = ns.cli("replay", session, "--", "sh", "-c", script)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == recorded.stdout and "divergence" not in replayed.stderr


def test_a_message_slot_session_names_each_divergence_of_another_program(
    ns: Namespace, cprog, tmp_path: Path
) -> None:
    session = str(tmp_path / "slot.jsonl")
    sender, reader = cprog("message_sender"), cprog("message_reader")
    script = slot_script(sender, reader, "1", "Hello")
    assert ns.cli("record", "--private", "-o", session, "sh", "-c", script).returncode == 0
    other = ns.cli("replay", session, "--", "sh", "-c", slot_script(sender, reader, "2", "Hallo"))
    assert other.returncode == 1
    assert (
        "recorded ioctl(3</dev/message_slot>, MSG_SLOT_CHANNEL, 1) = 0; "
        "replayed ioctl(</dev/message_slot>, MSG_SLOT_CHANNEL, 2)" in other.stderr
    )
    assert (
        'recorded write(3</dev/message_slot>, "Hello", 5) = 5; '
        'replayed write(</dev/message_slot>, "Hallo", 5)' in other.stderr
    )
    assert "2 divergence(s)" in other.stderr
    # a program that never makes the recorded calls: each missing one is named
    missing = ns.cli("replay", session, "true")
    assert missing.returncode == 1 and "replayed: no such call" in missing.stderr
    assert "6 divergence(s)" in missing.stderr


def test_a_chat_session_recorded_in_a_namespace_replays_with_its_sleep(
    ns: Namespace, cprog, tmp_path: Path
) -> None:
    joinchat = cprog("joinchat")
    session = str(tmp_path / "chat.jsonl")
    p2 = ns.spawn("run", joinchat, "P2")
    p2.expect_exact("You joined as P2")
    p1 = ns.spawn("record", "--out", session, "--", joinchat, "P1")
    p1.expect_exact("You joined as P1")
    p2.expect_exact("P1 joined the room")
    p2.sendline("hi P1")
    p1.expect_exact("P2: hi P1")
    p1.sendline("Bye!")
    p1.expect(pexpect.EOF)
    p1.close()
    assert p1.exitstatus == 0
    p2.sendline("Bye!")
    p2.expect(pexpect.EOF)
    p2.close()
    lines = [json.loads(x) for x in Path(session).read_text().splitlines()[1:]]
    reads = [x for x in lines if x.get("syscall") == "read"]
    assert [x["kind"] for x in reads][:2] == ["unfinished", "resumed"]
    assert reads[1]["out"][0][2] == "P2: hi P1" and reads[1]["tid"] != reads[1]["pid"]

    same = ns.spawn("replay", session, "--", joinchat, "P1")
    same.expect_exact("You joined as P1")
    same.expect_exact("P2: hi P1")  # after the recorded sleep, with no P2 anywhere
    same.sendline("Bye!")
    same.expect(pexpect.EOF)
    same.close()
    assert same.exitstatus == 0 and "divergence" not in same.before

    other = ns.spawn("replay", session, "--", joinchat, "P3")
    other.expect_exact('recorded ioctl(3</dev/chatroom>, CHATROOM_IOC_SET_NAME, "P1") = 0; ')
    other.expect_exact('replayed ioctl(</dev/chatroom>, CHATROOM_IOC_SET_NAME, "P3")')
    other.expect_exact("You joined as P3")  # answered from the recording: it goes on
    other.expect_exact("P2: hi P1")
    other.sendline("Bye!")
    other.expect(pexpect.EOF)
    other.close()
    assert other.exitstatus == 1


def test_replay_of_a_file_that_is_not_a_recording_is_one_line(ns: Namespace, tmp_path) -> None:
    bogus = tmp_path / "x.jsonl"
    bogus.write_text('{"hello": 1}\n')
    r = ns.cli("replay", str(bogus), "true")
    assert r.returncode == 2 and "not a ptsandbox recording" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
