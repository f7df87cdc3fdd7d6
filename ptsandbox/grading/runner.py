"""Grade submissions: build once, then every scenario in a fresh private sandbox."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from ..api import ExpectTimeout, Sandbox
from ..devices import build_devices, parse_device_spec
from ..tracer import Thread
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


def grade_submission(
    path: str, assignment: Assignment, device_specs: Sequence[str] = ()
) -> SubmissionResult:
    result = SubmissionResult(str(path), assignment.name)
    work = fresh_dir("ptsandbox-grade-")
    try:
        try:
            root = unpack(Path(path), work)
        except (SubmissionError, OSError) as e:
            result.error = str(e)
            return result
        built = build(root, assignment, work / "bin")
        result.build_log = built.log
        for i, scenario in enumerate(assignment.scenarios):
            workdir = work / f"scenario-{i}"
            workdir.mkdir()
            specs = merge_specs(assignment.devices, scenario.devices, device_specs)
            result.scenarios.append(_run_scenario(scenario, built, specs, workdir))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_scenario(
    scenario: Scenario, built: object, specs: list[str], workdir: Path
) -> ScenarioResult:
    start = time.monotonic()
    message, passed = "", False
    with Sandbox(build_devices(specs, builtins=False)) as sb:
        limit = scenario.limits.processes

        def count_processes(thread: Thread, parent: Thread | None) -> None:
            tgids = {t.tgid for t in sb.sup.tracer.threads.values()}
            if len(tgids) > limit and not sb.sup.process_limit_hit:
                sb.sup.process_limit_hit = True
                sb.sup.kill_all()

        sb.sup.task_hooks.append(count_processes)
        ctx = ScenarioContext(sb, built, scenario.limits, workdir)  # type: ignore[arg-type]
        try:
            scenario.run(ctx)
            if sb.sup.process_limit_hit:
                raise ScenarioFailed(f"more than {limit} processes at once: stopped")
            passed = True
        except ScenarioFailed as e:
            message = str(e)
        except ExpectTimeout as e:
            message = str(e)
        except Exception:  # a grader bug must not cost the student points silently
            message = "grader error (please report):\n" + traceback.format_exc(limit=5)
    points = scenario.points if passed else 0.0
    return ScenarioResult(
        scenario.name,
        scenario.description,
        points,
        scenario.points,
        passed,
        message,
        round(time.monotonic() - start, 2),
    )


def _grade_one(args: tuple[str, str, tuple[str, ...]]) -> dict[str, object]:
    from .suites import ASSIGNMENTS

    path, name, specs = args
    return grade_submission(path, ASSIGNMENTS[name], specs).to_dict()


def grade_many(
    paths: Sequence[str],
    assignment: Assignment,
    device_specs: Sequence[str],
    jobs: int,
    on_done: Callable[[SubmissionResult], None] = lambda r: None,
) -> list[SubmissionResult]:
    """Grade in parallel (one process per submission at a time, `jobs` at once)."""
    if jobs <= 1 or len(paths) == 1:
        results = []
        for p in paths:
            r = grade_submission(p, assignment, device_specs)
            on_done(r)
            results.append(r)
        return results
    ctx = multiprocessing.get_context("spawn")
    by_path: dict[str, SubmissionResult] = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {
            pool.submit(_grade_one, (p, assignment.name, tuple(device_specs))): p for p in paths
        }
        for future in concurrent.futures.as_completed(futures):
            r = SubmissionResult.from_dict(future.result())  # type: ignore[arg-type]
            by_path[futures[future]] = r
            on_done(r)
    return [by_path[p] for p in paths]


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 2) // 2)
