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
from ..devices.base import Device, DeviceError, ParamError
from ..devices.kmodule import KernelModule, hosted_class
from ..kmod.build import Built as KmodBuilt
from ..tracer import TracerError
from . import contain as sandboxing
from .build import NO_MODULE, Built, SubmissionError, build, fresh_dir, unpack
from .context import ScenarioContext
from .model import (
    PARTS,
    Assignment,
    Scenario,
    ScenarioFailed,
    ScenarioResult,
    SubmissionResult,
)


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


def graded_scenarios(assignment: Assignment, built: Built, part: str) -> list[Scenario]:
    """The client scenarios and/or the module's: with `both`, the module's only
    when the submission has a module source (with `module`, always: a missing one
    loses them)."""
    chosen = list(assignment.scenarios) if part in ("client", "both") else []
    has_module = built.module is not None or (
        bool(built.module_failure) and not built.module_failure.startswith(NO_MODULE)
    )
    if part == "module" or (part == "both" and has_module):
        chosen += assignment.module_scenarios
    return chosen


def grade_submission(
    path: str,
    assignment: Assignment,
    device_specs: Sequence[str] = (),
    contain: bool = True,
    part: str = "both",
) -> SubmissionResult:
    """Grade one submission; with `contain`, its build and each scenario run in a
    bubblewrap sandbox (contain.py). `part`: "client" (the student's clients against
    the reference devices), "module" (the student's module: reference clients, their
    own pair, robustness) or "both"."""
    result = SubmissionResult(str(path), assignment.name)
    if part not in PARTS:
        result.error = f"--part must be one of {', '.join(PARTS)}, not {part!r}"
        return result
    if part == "module" and not assignment.module_scenarios:
        result.error = f"{assignment.name} has no module to grade (--part module)"
        return result
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
            built = sandboxing.build(work, root, assignment, work / "bin", part)
        else:
            built = build(root, assignment, work / "bin", part)
        result.build_log = built.log + collision_notes(assignment, device_specs)
        for i, scenario in enumerate(graded_scenarios(assignment, built, part)):
            workdir = work / f"scenario-{i}"
            workdir.mkdir()
            specs = merge_specs(assignment.devices, scenario.devices, device_specs)
            if contain:
                ran = sandboxing.run_scenario(assignment, scenario, built, specs, workdir)
            else:
                ran = _run_scenario(scenario, built, specs, workdir, assignment.module_params)
            result.scenarios.append(ran)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _programs_of(scenario: Scenario, built: Built) -> Built:
    """The build a scenario's clients come from: the reference clients for a
    module scenario that runs them, else the student's."""
    ours = scenario.clients in ("reference", "probe")
    return built.with_reference_clients() if ours else built


def _cannot_run(scenario: Scenario, built: Built) -> str:
    """Why the scenario cannot run at all (a program or the module not built), or ""."""
    if scenario.part == "module" and built.module is None:
        if built.module_failure.startswith(NO_MODULE):
            return built.module_failure
        return f"the module could not be built:\n{built.module_failure}"
    programs = _programs_of(scenario, built)
    broken = [p for p in scenario.programs if p in programs.failures]
    if scenario.clients in ("reference", "probe") and broken:  # ours: a grader problem
        return "\n".join(
            f"grader error (please report): the reference {p} could not be built:\n"
            f"{programs.failures[p]}"
            for p in broken
        )
    return "\n".join(f"{p} could not be built:\n{programs.failures[p]}" for p in broken)


def _run_scenario(
    scenario: Scenario,
    built: Built,
    specs: list[str],
    workdir: Path,
    module_params: Sequence[str] = (),
) -> ScenarioResult:
    start = time.monotonic()
    message, passed = "", False
    why = _cannot_run(scenario, built)
    if why:
        return ScenarioResult(
            scenario.name, scenario.description, 0.0, scenario.points, False, why,
            visibility=scenario.visibility, part=scenario.part,
        )  # fmt: skip
    module: KernelModule | None = None
    devices: list[Device]
    if scenario.part == "module":
        try:
            module = _load_module(built, module_params)
        except (ParamError, OSError) as e:  # init failed (or the host did not start)
            return ScenarioResult(
                scenario.name, scenario.description, 0.0, scenario.points, False,
                f"insmod failed: {e}", visibility=scenario.visibility, part=scenario.part,
            )  # fmt: skip
        devices = [module]
    else:
        devices = build_devices(specs, builtins=False)
    limit = scenario.limits.processes
    with Sandbox(devices, process_limit=limit) as sb:
        ctx = ScenarioContext(sb, _programs_of(scenario, built), scenario.limits, workdir, module)
        try:
            scenario.run(ctx)
            if sb.sup.process_limit_hit:
                raise ScenarioFailed(f"tried to run more than {limit} processes at once")
            if module is not None:
                _rmmod(ctx, module)
            passed = True
        except ScenarioFailed as e:
            message = ctx.explain(str(e))
        except ExpectTimeout as e:  # a suite's own wait on a Proc timed out
            message = ctx.explain(str(e), timed_out=True)
        except TracerError as e:
            message = str(e)
        except Exception:  # a grader bug must not cost the student points silently
            message = "grader error (please report):\n" + traceback.format_exc()
    if module is not None:
        module.host.close(timeout=1.0)  # if rmmod did not end it (busy, stuck after an Oops)
    if module is not None and module.reports:  # also the ones its exit made at close
        passed = False
        message = _reports(module.reports) + (f"\n\n{message}" if message else "")
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
        scenario.part,
    )


def _load_module(built: Built, params: Sequence[str]) -> KernelModule:
    """insmod the student's module (its host binary, built already) with `params`."""
    assert built.module is not None
    cls = hosted_class(
        KmodBuilt(built.module_name, built.module, tuple(Path(s) for s in built.module_sources)),
        built.module_sources[0] if built.module_sources else built.module_name,
    )
    cls.report_sink = lambda tgid, text: None  # reports are the scenario's output
    config = dict(p.split("=", 1) for p in params)
    return cls(config=config)


def _rmmod(ctx: ScenarioContext, module: KernelModule) -> None:
    """rmmod at the end of a scenario that passed: every file must be closed by now
    (its clients have ended), and the module's exit runs (kmemleak scans then)."""
    sb = ctx.sandbox
    sb.sup.drain_releases()
    # after an Oops a file may never be released (its release oopsed, or a lock the
    # faulting call held is held for good, as in the kernel): no use waiting then
    # (the grader's own step: not within the scenario's time, never scaled down; a
    # correct module's last releases take milliseconds)
    wait = 0.0 if "D" in module.taint else RMMOD_WAIT
    if not sb.serve_until(lambda: not module.in_use(), wait):
        running = [ctx.name_of(p) for p in sb.procs if not p.exited]
        state = module.snapshot()
        raise ScenarioFailed(
            f"rmmod {module.name}: Device or resource busy after the scenario: "
            f"{state['open_files']} files of the module not released, "
            f"{state['calls_in_flight']} calls in flight, use count {module.refcount}"
            + (f"; still running: {', '.join(running)}" if running else "")
        )
    try:
        sb.sup.unload(module)
    except DeviceError as e:
        raise ScenarioFailed(f"rmmod {module.name}: {os.strerror(e.errno)}") from None


RMMOD_WAIT = 10.0  # seconds for the last releases before rmmod
REPORTS_SHOWN = 3
REPORT_LINES = 60


def _reports(reports: list[str]) -> str:
    """The module's bug reports, as the kernel printed them (the first few, each cut short)."""
    shown = []
    for text in reports[:REPORTS_SHOWN]:
        lines = text.strip("\n").splitlines()
        if len(lines) > REPORT_LINES:
            lines = [*lines[:REPORT_LINES], f"... ({len(lines) - REPORT_LINES} more lines)"]
        shown.append("\n".join(lines))
    more = len(reports) - REPORTS_SHOWN
    tail = f"\n({more} more reports in dmesg)" if more > 0 else ""
    return (
        f"the module reported {'a bug' if len(reports) == 1 else f'{len(reports)} bugs'} "
        "(dmesg):\n" + "\n\n".join(shown) + tail
    )


def grade_many(
    paths: Sequence[str],
    assignment: Assignment,
    device_specs: Sequence[str],
    jobs: int,
    on_done: Callable[[SubmissionResult], None] = lambda r: None,
    contain: bool = True,
    part: str = "both",
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
        argv += ["--part", part]
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
