"""The grader, proved on fixture submissions: the good ones score 100%, every
buggy one loses exactly what its README says it should."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)  # the first test of each assignment grades all its fixtures

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests/fixtures/submissions"
COURSES = ROOT / "examples/courses"

# broken fixtures make scenarios wait for what never comes: shorten those waits
os.environ.setdefault("PTSANDBOX_GRADE_TIME_SCALE", "0.5")

from ptsandbox.grading import report  # noqa: E402
from ptsandbox.grading.course import load as load_course  # noqa: E402
from ptsandbox.grading.model import Assignment, SubmissionResult  # noqa: E402
from ptsandbox.grading.runner import grade_many  # noqa: E402
from ptsandbox.grading.suites import ASSIGNMENTS  # noqa: E402

_results: dict[str, dict[str, SubmissionResult]] = {}


def device_specs(folder: Path) -> tuple[str, ...]:
    """The `--device SPEC`s its README names (its own course header's numbers)."""
    return tuple(re.findall(r"--device (\S+)", (folder / "README.txt").read_text()))


def graded(assignment: str) -> dict[str, SubmissionResult]:
    """Every fixture submission of an assignment, graded once per test session
    (those that name the same --device specs together)."""
    if assignment not in _results:
        folders = sorted(p for p in (FIXTURES / assignment).iterdir() if p.is_dir())
        groups: dict[tuple[str, ...], list[str]] = {}
        for folder in folders:
            groups.setdefault(device_specs(folder), []).append(str(folder))
        results = [
            r
            for specs, paths in groups.items()
            for r in grade_many(paths, suite(assignment), specs, jobs=2, part="client")
        ]
        _results[assignment] = {Path(r.submission).name: r for r in results}
    return _results[assignment]


def suite(name: str) -> Assignment:
    """A built-in suite, or a shipped course file (examples/courses/NAME.toml)."""
    return ASSIGNMENTS[name] if name in ASSIGNMENTS else load_course(COURSES / f"{name}.toml")


def expected_failures(readme: str, assignment: str) -> set[str]:
    """Scenario names the README says fail: those in the clause after 'fails'."""
    names = {s.name for s in suite(assignment).scenarios}
    failing: set[str] = set()
    for clause in re.findall(r"\bfails ([^;()]*)", readme):
        failing |= {n for n in re.findall(r"\w+", clause) if n in names}
    return failing


SUITES = sorted([*ASSIGNMENTS, *(c.stem for c in COURSES.glob("*.toml"))])
CASES = [
    (a.name, p.name)
    for a in (FIXTURES / n for n in SUITES)
    if a.is_dir()
    for p in sorted(a.iterdir())
    if p.is_dir()
]


def clients_on_a_pty() -> bool:
    """Does the grader run clients on a terminal (so plain printf is line-buffered)?"""
    from ptsandbox.api import Sandbox
    from ptsandbox.grading.build import Built
    from ptsandbox.grading.context import ScenarioContext
    from ptsandbox.grading.model import Limits

    with Sandbox([]) as sb:
        built = Built(Path("/"), {"probe": Path("/bin/sh")})
        ctx = ScenarioContext(sb, built, Limits(), Path(tempfile.gettempdir()))
        return ctx.wait(ctx.spawn("probe", "-c", "test -t 1")) == 0


@pytest.mark.timeout(900)  # the first case of an assignment grades all its fixtures
@pytest.mark.parametrize("assignment, variant", CASES, ids=[f"{a}/{v}" for a, v in CASES])
def test_fixture_scores_as_its_readme_says(assignment: str, variant: str) -> None:
    readme = (FIXTURES / assignment / variant / "README.txt").read_text()
    if "needs clients on a terminal" in readme and not clients_on_a_pty():
        pytest.skip("plain printf: needs the grader to run clients on a pty")
    result = graded(assignment)[variant]
    failed = {s.name for s in result.scenarios if not s.passed}
    detail = report.text(result)
    # correct, however it is written (a README saying "full marks" or starting "correct")
    if variant == "good" or "full marks" in readme or readme.startswith("correct"):
        assert result.full_marks, detail
        return
    assert not result.full_marks, detail
    if variant == "compile_error":
        broken = {line.split(":")[0] for line in result.build_log if "compile error" in line}
        needs = {s.name: s.programs for s in suite(assignment).scenarios}
        assert broken, detail
        for s in result.scenarios:
            if broken & set(needs[s.name]):  # a scenario that needs the broken program
                assert not s.passed and "could not be built" in s.message, detail
                assert "error:" in s.message  # gcc's own words
        return
    must_fail = expected_failures(readme, assignment)
    assert must_fail, f"{variant}/README.txt names no failing scenario"
    assert failed == must_fail, detail  # loses exactly the points its bug targets


def test_every_assignment_has_eight_scenarios_and_six_buggy_fixtures() -> None:
    for name, assignment in ASSIGNMENTS.items():
        assert len(assignment.scenarios) >= 8, name
        variants = [p.name for p in (FIXTURES / name).iterdir() if p.is_dir()]
        assert "good" in variants and len(variants) >= 7, (name, variants)


def test_failure_messages_say_what_was_expected_and_show_the_trace() -> None:
    busy = graded("chatroom")["busy_poll"]
    [idle] = [s for s in busy.scenarios if s.name == "idle_client_blocks_in_read"]
    assert "should sleep in read()" in idle.message
    assert "EAGAIN" in idle.message  # the trace excerpt


def test_gradescope_junit_and_github_outputs() -> None:
    result = graded("chatroom")["no_close"]
    gs = json.loads(report.gradescope(result))
    assert gs["score"] == result.score
    assert {t["status"] for t in gs["tests"]} == {"passed", "failed"}
    assert all(
        {"name", "score", "max_score", "status", "output", "visibility"} <= set(t)
        for t in gs["tests"]
    )
    suites = ET.fromstring(report.junit([result]))
    failures = suites.findall(".//failure")
    assert [f.getparent() if hasattr(f, "getparent") else None for f in failures]
    assert len(failures) == sum(not s.passed for s in result.scenarios)
    gh = json.loads(report.github(result))
    assert gh["status"] == "fail" and gh["max_score"] == result.max_score
    csv = report.scores_csv([result])
    assert csv.splitlines()[0].startswith("submission,score,max_score,")


def test_cli_grades_a_zip_and_exits_non_zero_unless_full_marks(tmp_path: Path) -> None:
    good = FIXTURES / "message-slot" / "good"
    archive = tmp_path / "student.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in good.iterdir():
            z.write(f, f"ex5_012345678/{f.name}")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = tmp_path / "results.json"
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "grade", str(archive), "-a", "message-slot",
         "--part", "client", "--format", "gradescope", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["score"] == ASSIGNMENTS["message-slot"].max_score
    broken = FIXTURES / "message-slot" / "no_close"
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "grade", str(broken), "-a", "message-slot",
         "--part", "client"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert r.returncode == 1 and "FAIL closes_device" in r.stdout


def test_makefile_with_client_targets_is_used(tmp_path: Path) -> None:
    result = graded("chatroom")["good"]
    assert any("built by the submission's Makefile" in line for line in result.build_log), (
        result.build_log
    )
    assert any("the module is not graded (--part client)" in line for line in result.build_log)


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for args, words in (
        (["grade", str(tmp_path / "missing"), "-a", "chatroom"], "no such folder"),
        (["grade", str(tmp_path), "-a", "nosuch"], "no assignment"),
        (["grade", str(tmp_path), "-a", "chatroom", "--format", "pdf"], "--format"),
        (["grade", str(tmp_path), "-a", "chatroom", "-d", "chatroom,queue_len=0"], "minimum"),
        # refused before grading anything (it used to grade them all first)
        (["grade", str(tmp_path), str(tmp_path), "-a", "chatroom", "-f", "gradescope"], "one"),
        (["grade", str(tmp_path), str(tmp_path), "-a", "chatroom", "-f", "github"], "one"),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "ptsandbox", *args], capture_output=True, text=True,
            timeout=60, env=env,
        )  # fmt: skip
        assert r.returncode == 2, (args, r.stderr)
        assert words in r.stderr and "Traceback" not in r.stderr


def test_a_fork_bomb_and_a_flood_lose_only_their_scenario(tmp_path: Path) -> None:
    sub = tmp_path / "evil"
    shutil.copytree(FIXTURES / "message-slot" / "good", sub)
    sender = (sub / "message_sender.c").read_text()
    evil = sender.replace(
        "int main(int argc, char *argv[])",
        'static void evil(void) { if (getenv("EVIL_NEVER")) return; }\n'
        "int main(int argc, char *argv[])",
    )
    (sub / "message_sender.c").write_text(evil)
    reader = (sub / "message_reader.c").read_text()
    flood = reader.replace(
        "int main(int argc, char *argv[])",
        "#include <unistd.h>\nint main(int argc, char *argv[]) {\n"
        "  if (argc > 1 && argv[1][0] == '7') { for (;;) fork(); }\n"
        "  if (argc > 1 && argv[1][0] == '2') { for (;;) printf(\"flood flood flood\\n\"); }\n"
        "  if (argc > 1 && argv[1][0] == '3') { for (;;) {} }\n"
        "  return real_main(argc, argv);\n}\nint real_main(int argc, char *argv[])",
    )
    (sub / "message_reader.c").write_text("int real_main(int argc, char *argv[]);\n" + flood)
    [result] = grade_many([str(sub)], ASSIGNMENTS["message-slot"], (), jobs=1, part="client")
    by = {s.name: s for s in result.scenarios}
    assert not by["invalid_channel_reader_fails"].passed  # reader 7: fork bomb
    assert "processes" in by["invalid_channel_reader_fails"].message
    assert not by["overwrite"].passed  # reader 2: floods its output
    assert "KiB" in by["overwrite"].message
    assert not by["channels_are_independent"].passed  # reader 3: spins forever
    assert "did not exit within" in by["channels_are_independent"].message
    assert by["send_then_read"].passed  # the rest is graded as usual


@pytest.mark.timeout(900)  # 20 gradings: minutes on a loaded 2-core machine
def test_a_class_of_copies_with_two_jobs_gives_progress_summary_and_csv(tmp_path: Path) -> None:
    import pexpect

    copies = []
    for i in range(6):  # enough for two workers to share them out (each copy grades 10 s)
        dst = tmp_path / f"student{i:02d}"
        shutil.copytree(FIXTURES / "message-slot" / "good", dst)
        copies.append(str(dst))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = tmp_path / "class.txt"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ptsandbox", "grade", *copies, "-a", "message-slot", "-p", "client", "-j", "2",
         "-o", str(out)],
        env=env, encoding="utf-8", timeout=600, dimensions=(50, 160),
    )  # fmt: skip
    child.expect("grading")  # the progress bar (on a terminal)
    child.expect("summary")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0  # all full marks
    assert f"(CSV): {tmp_path / 'class.txt.csv'}" in child.before  # named after the report
    rows = (tmp_path / "class.txt.csv").read_text().splitlines()
    assert len(rows) == 7 and rows[0].startswith("submission,score,max_score")
    assert all(",80,80," in row for row in rows[1:])


def test_the_readme_example_major_240_grades_a_2020_submission_fully() -> None:
    """`-d message_slot,major=240` alone: the suite's mknod and the set-channel
    command both follow the major (the 2020/2021 header's _IOW(240, 0, ...))."""
    good = str(FIXTURES / "message-slot-2020" / "good")
    spec = ["message_slot,profile=tau,major=240"]
    [result] = grade_many([good], ASSIGNMENTS["message-slot-tau"], spec, jobs=1, part="client")
    assert result.full_marks, report.text(result)


def test_the_grade_report_names_a_syscall_number_collision() -> None:
    result = graded("mailbox")["old_numbers_pipe"]
    assert any("syscall 293 is pipe2" in line for line in result.build_log), result.build_log
    assert "syscall 293 is pipe2" in report.text(result)


def test_a_course_file_sets_gradescope_visibility_and_points() -> None:
    result = graded("message-slot-2020")["good"]
    tests = {t["name"]: t for t in json.loads(report.gradescope(result))["tests"]}
    assert tests["channel_zero_fails"]["visibility"] == "hidden"
    assert tests["small_buffer_fails"]["visibility"] == "after_published"
    assert tests["send_then_read"]["visibility"] == "visible"
    course = load_course(COURSES / "message-slot-2019.toml")
    assert {s.name: s.points for s in course.scenarios}["append_mode"] == 10


@pytest.mark.parametrize(
    "text, error",
    [
        ("[course]\nassignment = 'nope'\n", "course.assignment must name a suite"),
        ("[course]\nassignment = 'mq'\n[tests.unicast]\nvisibility = 'soon'\n", "is not one of"),
        ("[course]\nassignment = 'mq'\n[tests.nosuch]\n", "tests.nosuch: no such scenario"),
        ("[course]\nassignment = 'message-slot'\n[invoke]\nsend = ['{chanel}']\n", "{chanel}"),
        ("[course\n", "not valid TOML"),
    ],
)
def test_a_bad_course_file_is_one_clear_line(tmp_path: Path, text: str, error: str) -> None:
    course = tmp_path / "course.toml"
    course.write_text(text)
    r = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "grade", "--course", str(course), str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode != 0
    assert error in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_crash_is_named_with_its_signal_and_what_its_children_were_doing() -> None:
    crashed = graded("mailbox")["parent_crashes"]
    for s in crashed.scenarios:
        assert "was killed by SIGSEGV" in s.message and "did not exit" not in s.message, s.message
        assert re.search(r"`barrier \d` \(pid \d+\)", s.message), s.message
    hung = graded("mailbox")["waits_for_itself"]
    [completes] = [s for s in hung.scenarios if s.name == "completes"]
    assert "did not exit within" in completes.message
    # every child sleeps in myreceive (the collector too), the parent waits for them
    sleeping = re.findall(
        r"`child of barrier 5` \(pid \d+\) sleeps in myreceive since", completes.message
    )
    assert len(sleeping) == 5, completes.message
    assert "`barrier 5` (pid" in completes.message and "wait4" in completes.message


def test_a_missing_line_shows_the_calls_and_a_long_expected_line_is_shortened() -> None:
    cut = graded("chatroom")["short_buffer"]
    [long_line] = [s for s in cut.scenarios if s.name == "long_line_arrives_whole"]
    first = long_line.message.splitlines()[0]
    assert "more characters" in first and len(first) < 600, first
    assert "last calls that touched the device" in long_line.message
    assert re.search(r"read\(\d+</dev/chatroom>", long_line.message)  # what the reader got
