"""Grade submissions: build once, then every scenario in a fresh private sandbox."""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from ..api import ExpectTimeout, Sandbox
from ..devices import build_devices, parse_device_spec
from ..tracer import TracerError
from . import contain as sandboxing
from .build import SubmissionError, build, fresh_dir, unpack
from .context import ScenarioContext
from .model import Assignment, Scenario, ScenarioFailed, ScenarioResult, SubmissionResult


def merge_specs(*groups: Sequence[str]) -> list[str]:
    """Device specs, later parameters overriding earlier ones per device."""
    merged: dict[str, dict[str, str]] = {}
    for group in groups:
        for spec in group:
            name, params = parse_device_spec(spec)
            merged.setdefault(name, {}).update(params)
    return [",".join([name, *(f"{k}={v}" for k, v in p.items())]) for name, p in merged.items()]


def collision_notes(assignment: Assignment, device_specs: Sequence[str]) -> list[str]:
    """Real syscalls the devices' numbers collide with (old course numbers), for the report."""
    from ..supervisor import collision_warning
    from ..sysnr import NAMES

    notes: list[str] = []
    for scenario in assignment.scenarios:
        specs = merge_specs(assignment.devices, scenario.devices, device_specs)
        for device in build_devices(specs, builtins=False):
            for nr, handler in device.syscalls().items():
                if nr not in NAMES:
                    continue
                name = getattr(handler, "__name__", f"syscall_{nr}")
                note = f"note: {collision_warning(device, nr, name)}"
                if note not in notes:
                    notes.append(note)
    return notes


def grade_submission(
    path: str, assignment: Assignment, device_specs: Sequence[str] = (), contain: bool = True
) -> SubmissionResult:
    """Grade one submission; with `contain`, its build and each scenario run in a
    bubblewrap sandbox (contain.py)."""
    result = SubmissionResult(str(path), assignment.name)
    if contain and (why := sandboxing.unavailable()):
        result.error = f"{why}: {sandboxing.GRADE_HINT}"
        return result
    work = fresh_dir("ptsandbox-grade-")
    try:
        try:
            root = unpack(Path(path), work)
        except (SubmissionError, OSError) as e:
            result.error = str(e)
            return result
        if contain:
            built = sandboxing.build(work, root, assignment, work / "bin")
        else:
            built = build(root, assignment, work / "bin")
        result.build_log = built.log + collision_notes(assignment, device_specs)
        for i, scenario in enumerate(assignment.scenarios):
            workdir = work / f"scenario-{i}"
            workdir.mkdir()
            specs = merge_specs(assignment.devices, scenario.devices, device_specs)
            if contain:
                ran = sandboxing.run_scenario(assignment, scenario, built, specs, workdir)
            else:
                ran = _run_scenario(scenario, built, specs, workdir)
            result.scenarios.append(ran)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_scenario(
    scenario: Scenario, built: object, specs: list[str], workdir: Path
) -> ScenarioResult:
    start = time.monotonic()
    message, passed = "", False
    broken = [p for p in scenario.programs if p in built.failures]  # type: ignore[attr-defined]
    if broken:
        message = "\n".join(
            f"{p} could not be built:\n{built.failures[p]}"  # type: ignore[attr-defined]
            for p in broken
        )
        return ScenarioResult(
            scenario.name, scenario.description, 0.0, scenario.points, False, message,
            visibility=scenario.visibility,
        )  # fmt: skip
    limit = scenario.limits.processes
    with Sandbox(build_devices(specs, builtins=False), process_limit=limit) as sb:
        ctx = ScenarioContext(sb, built, scenario.limits, workdir)  # type: ignore[arg-type]
        try:
            scenario.run(ctx)
            if sb.sup.process_limit_hit:
                raise ScenarioFailed(f"tried to run more than {limit} processes at once")
            passed = True
        except ScenarioFailed as e:
            message = ctx.explain(str(e))
        except ExpectTimeout as e:  # a suite's own wait on a Proc timed out
            message = ctx.explain(str(e), timed_out=True)
        except TracerError as e:
            message = str(e)
        except Exception:  # a grader bug must not cost the student points silently
            message = "grader error (please report):\n" + traceback.format_exc()
    points = scenario.points if passed else 0.0
    return ScenarioResult(
        scenario.name,
        scenario.description,
        points,
        scenario.points,
        passed,
        message,
        round(time.monotonic() - start, 2),
        scenario.visibility,
    )


def grade_many(
    paths: Sequence[str],
    assignment: Assignment,
    device_specs: Sequence[str],
    jobs: int,
    on_done: Callable[[SubmissionResult], None] = lambda r: None,
    contain: bool = True,
) -> list[SubmissionResult]:
    """Grade `jobs` submissions at a time, each in a worker process of its own
    (`ptsandbox grade-worker`), so one submission cannot disturb another."""
    results: dict[str, SubmissionResult] = {}

    def work(path: str) -> SubmissionResult:
        argv = [sys.executable, "-m", "ptsandbox", "grade-worker", path, assignment.name]
        if assignment.course_file:
            argv += ["--course", assignment.course_file]
        for spec in device_specs:
            argv += ["--device", spec]
        if not contain:
            argv.append("--no-contain")
        proc = subprocess.run(argv, capture_output=True, text=True)
        try:
            return SubmissionResult.from_dict(json.loads(proc.stdout))
        except ValueError:
            failed = SubmissionResult(path, assignment.name)
            failed.error = f"the grading worker failed: {proc.stderr.strip()[-500:]}"
            return failed

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(work, p): p for p in paths}
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            on_done(result)
    return [results[p] for p in paths]


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 2) // 2)
