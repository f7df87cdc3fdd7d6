"""The pytest plugin, used the way a test author would: a test file run by pytest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXAMPLE = '''
import pytest


@pytest.mark.points(10)
def test_two_members_chat(sandbox, compile_c):
    """Two members exchange a message."""
    joinchat = compile_c("joinchat.c")
    p1 = sandbox.spawn([joinchat, "P1"])
    p1.expect("You joined as P1")
    p2 = sandbox.spawn([joinchat, "P2"])
    p1.expect("P2 joined the room")
    p1.sendline("hi")
    p2.expect("P1: hi")
    writes = [e for e in sandbox.trace if e.syscall == "write" and e.pid == p1.pid]
    assert writes and writes[0].result == 2
    for p in (p1, p2):
        p.sendline("Bye!")
        assert p.wait() == 0


@pytest.mark.points(5)
def test_broken_build(compile_c):
    compile_c("broken.c")


def test_fails_plainly(sandbox):
    p = sandbox.spawn(["sh", "-c", "exit 3"])
    assert p.wait() == 0


def test_expect_fails(sandbox):
    p = sandbox.spawn(["sh", "-c", "echo hello; read line"])
    p.expect("goodbye", timeout=0.5)
'''


def test_fixtures_marker_and_gradescope_results(tmp_path: Path) -> None:
    shutil.copy(ROOT / "cprogs/joinchat.c", tmp_path)
    shutil.copy(ROOT / "cprogs/chatroom.h", tmp_path)
    (tmp_path / "broken.c").write_text("int main(void) { return oops; }\n")
    (tmp_path / "test_student.py").write_text(EXAMPLE)
    results = tmp_path / "results.json"
    r = subprocess.run(
        # -rN: no short summary, which repeats each message in full when CI is set
        [sys.executable, "-m", "pytest", "-q", "-rN", "-p", "no:cacheprovider",
         f"--gradescope-results={results}", str(tmp_path / "test_student.py")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert "3 failed, 1 passed" in r.stdout
    assert "oops" in r.stdout and "undeclared" in r.stdout  # gcc's output, as a failure
    assert r.stdout.count("undeclared (first use") == 1  # once, not chained twice
    # a failed expect shows the test's line and what was seen, not ptsandbox's source
    assert "'goodbye' not seen within 0.5s" in r.stdout and "'hello\\n'" in r.stdout
    assert "ptsandbox/api.py" not in r.stdout and "raise ExpectTimeout" not in r.stdout
    data = json.loads(results.read_text())
    by = {t["name"].split("::")[-1]: t for t in data["tests"]}
    assert by["test_two_members_chat"]["score"] == 10
    broken = by["test_broken_build"]
    assert (broken["score"], broken["max_score"], broken["status"]) == (0.0, 5.0, "failed")
    assert "undeclared" in broken["output"]
    assert by["test_fails_plainly"]["max_score"] == 1.0
    assert data["score"] == 10
