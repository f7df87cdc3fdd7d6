"""Grading a submission's own kernel module (`grade --part module|both`), proved
on fixture submissions whose modules are the test modules of tests/kmod/:
a correct module gets every module mark, a one-bug module loses the scenarios
its bug hits with the kernel's report as the message, a module that does not
compile loses them all with gcc's error, and `--part client` grades no module.

Real gcc, real supervisor, real bubblewrap; the fixtures are graded once per
session (grade_many, two at a time) and shared by the tests.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ptsandbox.grading import report
from ptsandbox.grading.model import SubmissionResult
from ptsandbox.grading.runner import grade_many, grade_submission
from ptsandbox.grading.suites import ASSIGNMENTS

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests/fixtures/submissions/kmod"
KMOD = ROOT / "tests/kmod"

TAU = ASSIGNMENTS["message-slot-tau"]
# fixture -> the test module its module files are a copy of
MODULES = {
    "message-slot-tau/good": "msgslot_tau",
    "message-slot-tau/oob": "msgslot_tau_oob",
    "chatroom/good": "chatroom",
    "mq/good": "mq",
}
_results: dict[str, SubmissionResult] = {}


def graded(fixture: str) -> SubmissionResult:
    """Every kmod fixture, graded once per session (--part module), two at a time
    (each in a grading worker of its own, as `grade -j 2`)."""
    if not _results:
        folders = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())

        def grade(folder: Path) -> tuple[str, SubmissionResult]:
            assignment = ASSIGNMENTS[folder.parent.name]
            [r] = grade_many([str(folder)], assignment, (), jobs=1, part="module")
            return f"{folder.parent.name}/{folder.name}", r

        # the waits at full length: these modules are correct or fail by a report,
        # never by a timeout, and a loaded machine must not fail them
        scale = os.environ.get("PTSANDBOX_GRADE_TIME_SCALE")
        os.environ["PTSANDBOX_GRADE_TIME_SCALE"] = "1"
        try:
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                _results.update(pool.map(grade, folders))
        finally:
            if scale is None:
                del os.environ["PTSANDBOX_GRADE_TIME_SCALE"]
            else:
                os.environ["PTSANDBOX_GRADE_TIME_SCALE"] = scale

    return _results[fixture]


def test_fixture_modules_are_the_test_modules() -> None:
    for fixture, module in MODULES.items():
        for f in (KMOD / module).iterdir():
            if f.suffix in (".c", ".h") or f.name == "Makefile":
                ours = FIXTURES / fixture / f.name
                assert filecmp.cmp(f, ours, shallow=False), f"{ours} differs from {f}"


@pytest.mark.parametrize("fixture", ["message-slot-tau/good", "chatroom/good", "mq/good"])
def test_a_correct_module_gets_every_module_mark(fixture: str) -> None:
    result = graded(fixture)
    detail = report.text(result)
    assert result.full_marks, detail
    assignment = ASSIGNMENTS[fixture.split("/")[0]]
    names = {s.name for s in result.scenarios}
    assert names == {s.name for s in assignment.module_scenarios}, detail  # no client one
    assert {s.part for s in result.scenarios} == {"module"}
    # the three kinds: reference clients, their own pair, robustness
    assert any(n.startswith("ref_") for n in names) and any(n.startswith("pair_") for n in names)
    assert {"bad_user_pointers", "concurrent_openers", "rmmod_with_nothing_open"} <= names
    assert any(" built from " in line for line in result.build_log), detail
    assert not any("not built here" in line for line in result.build_log)
    total = f"{sum(s.points for s in assignment.module_scenarios):g}"
    assert f"module (the student's kernel module): {total}/{total}" in detail


def test_a_one_bug_module_loses_what_its_bug_hits_with_the_kernels_report() -> None:
    result = graded("message-slot-tau/oob")
    detail = report.text(result)
    failed = {s.name: s for s in result.scenarios if not s.passed}
    # every scenario that writes a message hits the bug; the ones that write none pass
    assert set(failed) == {
        "ref_send_then_read",
        "ref_big_channel_id",
        "ref_channels_independent_and_overwrite",
        "ref_message_size_limits",
        "pair_send_then_read",
        "bad_user_pointers",
        "concurrent_openers",
        "many_channels",
    }, detail
    for s in failed.values():
        assert s.message.startswith("the module reported"), s.message
        assert "BUG: KASAN: slab-out-of-bounds in device_write" in s.message
        assert "(message_slot.c:92) [message_slot]" in s.message  # the write past the end
        assert "Allocated by task" in s.message and "message_slot.c:88" in s.message
    assert 0 < result.score < result.max_score


def test_a_module_that_does_not_compile_loses_its_scenarios_with_gccs_error() -> None:
    result = graded("message-slot-tau/compile_error")
    assert not result.error  # graded, not refused
    assert len(result.scenarios) == len(TAU.module_scenarios)
    for s in result.scenarios:
        assert not s.passed and s.points == 0
        assert s.message.startswith("the module could not be built:")
        # gcc's own words (its quotes follow the locale)
        assert "message_slot.c:130:5: error: implicit declaration of function" in s.message
        assert "printf" in s.message and "gcc exit 1" in s.message
        assert "Traceback" not in s.message
    assert any("module compile error" in line for line in result.build_log)


def test_part_client_grades_no_module() -> None:
    """--part client: the module is neither built nor graded, and the log says so
    (one client scenario, to keep the test short)."""
    one = dataclasses.replace(
        TAU, scenarios=tuple(s for s in TAU.scenarios if s.name == "send_then_read")
    )
    good = str(FIXTURES / "message-slot-tau" / "good")
    result = grade_submission(good, one, part="client")
    assert [s.name for s in result.scenarios] == ["send_then_read"], report.text(result)
    assert result.full_marks, report.text(result)  # exit(-1), no fflush: still correct
    assert any("the module is not graded (--part client)" in ln for ln in result.build_log)
    # and by default (both) the module's scenarios come along
    assert {s.name for s in TAU.module_scenarios} <= {
        s.name for s in grade_submission(str(FIXTURES / "message-slot-tau" / "compile_error"),
                                         one).scenarios
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["-a", "message-slot-tau", "--part", "kernel"], "--part must be one of"),
        (["-a", "mailbox", "--part", "module"], "mailbox has no kernel module to grade"),
    ],
)
def test_a_bad_part_is_one_clear_line(args: list[str], error: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "grade", str(FIXTURES / "message-slot-tau" / "good"),
         *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert error in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
