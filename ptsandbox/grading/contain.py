"""Run a submission's build and each of its scenarios inside a bubblewrap sandbox.

`grade` treats a submission as hostile: its Makefile and its clients run in a
bwrap sandbox with its own user, pid, network, IPC, UTS, mount and cgroup
namespaces, as uid 65534 with no capabilities. What it sees of the machine is
read-only and only what a C program, gcc, make and the supervisor need: /usr
(and the /bin, /lib... links into it), a few files of /etc (none secret;
passwd and group are made up), the Python installation running ptsandbox and
ptsandbox itself. Its only writable places are size-limited tmpfs mounts: the
scenario's work directory (or the copy of the submission a build works in) and
a private /tmp. Nothing it writes reaches the disk; everything it started dies
with the sandbox (its pid namespace) and with the grader (--die-with-parent).

The unit is one sandbox per scenario, holding the supervisor and the clients,
so a scenario behaves exactly as uncontained: `python -c` inside runs
`runner._run_scenario` and prints the result as JSON on a stdout that only the
grading process holds. A build runs `build.build` the same way and sends the
programs back in its JSON answer. The grader outside never runs anything the
submission wrote.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..devices import absolute_spec, parse_device_spec, resolve
from .build import Built
from .model import Assignment, Scenario, ScenarioResult

SCRATCH_BYTES = 64 << 20  # each tmpfs of a scenario: its work dir, its /tmp
SHM_BYTES = 16 << 20  # /dev/shm (shm_open)
BUILD_SCRATCH_BYTES = 256 << 20  # the build's copy of the submission (+ its size)
MAX_PROGRAM_BYTES = 64 << 20  # a built client larger than this is refused
BUILD_TIMEOUT_PER_PROGRAM = 90  # make's own limit is 60 s per program
SCENARIO_GRACE = 60  # on top of a scenario's wall limit, for starting and tearing down

UID = 65534  # nobody: the uid inside, with no capabilities

# /etc entries a C program, gcc, make or Python may need, none of them secret
# (no shadow, no ssh, no ssl keys, no machine-id); passwd and group are made up.
ETC = (
    "alternatives",  # /usr/bin/cc, awk ... are links through here
    "ld.so.cache",  # without it the loader misses the multiarch library dirs
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "os-release",
)
PASSWD = (
    "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
    f"nobody:x:{UID}:{UID}:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = f"root:x:0:\nnogroup:x:{UID}:\n"
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost\n"

GRADE_HINT = (
    "grade where bubblewrap works (apt-get install bubblewrap), "
    "or pass --no-contain only inside a throwaway container"
)


class ContainError(Exception):
    """The sandbox cannot be made here (one line for the user)."""


def python_paths(specs: Sequence[str] = ()) -> tuple[list[Path], list[Path]]:
    """(paths to bind read-only, dirs for PYTHONPATH) that the supervisor needs:
    the Python installation, ptsandbox, and the modules of custom devices."""
    package = Path(__file__).resolve().parent.parent
    binds = [Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]
    binds.append(Path(sys.executable).resolve().parent)
    binds.append(package)
    pythonpath = [package.parent]
    for spec in specs:
        name, _ = parse_device_spec(spec)
        if ":" not in name:
            continue
        module = sys.modules.get(resolve(name).__module__)
        origin = getattr(module, "__file__", None)
        if origin is None:
            continue
        where = name.rpartition(":")[0]
        if where.endswith(".py"):
            binds.append(Path(origin).resolve())
        else:  # package.module: the top-level package, importable from its parent
            top = Path(origin).resolve().parents[where.count(".")]
            binds.append(top)
            pythonpath.append(top.parent)
    return _outermost(binds), pythonpath


def _outermost(paths: list[Path]) -> list[Path]:
    """Drop duplicates and paths inside another one, or inside /usr (bound anyway)."""
    kept: list[Path] = []
    for p in sorted(set(paths), key=lambda p: len(p.parts)):
        if p.exists() and not any(p.is_relative_to(k) for k in [*kept, Path("/usr")]):
            kept.append(p)
    return kept


def _data(content: str) -> int:
    """A pipe holding `content`, for --ro-bind-data (small: fits the pipe buffer)."""
    r, w = os.pipe()
    os.write(w, content.encode())
    os.close(w)
    return r


def bwrap_argv(
    argv: Sequence[str],
    *,
    cwd: Path,
    writable: Sequence[Path] = (),
    scratch: Sequence[tuple[Path, int]] = (),
    readonly: Sequence[tuple[Path, Path]] = (),
    specs: Sequence[str] = (),
    env: dict[str, str] | None = None,
    new_session: bool = True,
) -> tuple[list[str], list[int]]:
    """The bwrap command line running `argv` contained, and the fds it must inherit
    (close them in the parent once bwrap has started).

    `writable` host dirs are bound read-write, `scratch` gets size-limited
    tmpfs mounts, then `readonly` (host path, path inside) binds go on top."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise ContainError("bubblewrap (bwrap) is not installed")
    binds, pythonpath = python_paths(specs)
    fds = [_data(PASSWD), _data(GROUP), _data(HOSTS)]
    args = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns"]
    args += ["--uid", str(UID), "--gid", str(UID), "--hostname", "ptsandbox"]
    args += ["--die-with-parent", *(["--new-session"] if new_session else [])]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    args += ["--dir", "/etc"]
    for entry in ETC:
        if os.path.lexists(f"/etc/{entry}"):
            args += ["--ro-bind", f"/etc/{entry}", f"/etc/{entry}"]
    for fd, dest in zip(fds, ("/etc/passwd", "/etc/group", "/etc/hosts"), strict=True):
        args += ["--ro-bind-data", str(fd), dest]
    args += ["--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--proc", "/proc"]
    args += ["--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp"]
    for path in binds:
        args += ["--ro-bind", str(path), str(path)]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    for path, size in scratch:
        args += ["--size", str(size), "--tmpfs", str(path)]
    for host, inside_path in readonly:
        args += ["--ro-bind", str(host), str(inside_path)]
    # bwrap's own tmpfs mounts (the root, /dev) would take any amount of memory
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    inside = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(cwd),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(map(str, pythonpath)),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for key, value in os.environ.items():
        if (key.startswith("PTSANDBOX_") and key != "PTSANDBOX_RUNTIME_DIR") or key == "CC":
            inside[key] = value
    inside.update(env or {})
    args.append("--clearenv")
    for key, value in inside.items():
        args += ["--setenv", key, value]
    args += ["--chdir", str(cwd), "--", *argv]
    return args, fds


@functools.cache
def unavailable() -> str | None:
    """Why no sandbox can be made here (bwrap missing, user namespaces off), or None.
    Callers add what to do about it (GRADE_HINT for `grade`)."""
    try:
        argv, fds = bwrap_argv(["true"], cwd=Path("/"))
    except ContainError as e:
        return str(e)
    try:
        proc = subprocess.run(argv, pass_fds=fds, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "bubblewrap did not start a sandbox within 30 s"
    finally:
        for fd in fds:
            os.close(fd)
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        if "Unknown option" in said:
            return f"bubblewrap is too old here ({said}): it needs 0.8 or later"
        return f"bubblewrap cannot make a sandbox here ({said}; are user namespaces disabled?)"
    return None


def _python(call: str) -> list[str]:
    return [sys.executable, "-c", f"from ptsandbox.grading.contain import {call}; {call}()"]


def _run(
    argv: list[str], fds: list[int], request: dict[str, Any], timeout: float
) -> tuple[dict[str, Any] | None, str]:
    """Start the sandbox, send it `request`, return (its JSON answer or None, stderr)."""
    try:
        proc = subprocess.Popen(
            argv,
            pass_fds=fds,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        for fd in fds:
            os.close(fd)
    try:
        out, err = proc.communicate(json.dumps(request), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # bwrap's init dies with it (--die-with-parent), and its pid namespace
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=10)
        return None, f"the sandbox did not finish within {timeout:.0f}s"
    try:
        answer = json.loads(out)
    except ValueError:
        return None, err.strip()[-500:] or f"it exited with {proc.returncode}"
    return (answer if isinstance(answer, dict) else None), err


def _built_to_dict(built: Built) -> dict[str, Any]:
    return {
        "root": str(built.root),
        "programs": {k: str(v) for k, v in built.programs.items()},
        "failures": built.failures,
        "log": built.log,
        "module": str(built.module) if built.module else "",
        "module_name": built.module_name,
        "module_sources": built.module_sources,
        "module_failure": built.module_failure,
        "reference": {k: str(v) for k, v in built.reference.items()},
        "reference_failures": built.reference_failures,
    }


def _built_from_dict(d: dict[str, Any]) -> Built:
    return Built(
        Path(d["root"]),
        {k: Path(v) for k, v in d["programs"].items()},
        dict(d["failures"]),
        list(d["log"]),
        Path(d["module"]) if d.get("module") else None,
        d.get("module_name", ""),
        list(d.get("module_sources", [])),
        d.get("module_failure", ""),
        {k: Path(v) for k, v in d.get("reference", {}).items()},
        dict(d.get("reference_failures", {})),
    )


def _tree_bytes(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*"))


def build(work: Path, root: Path, assignment: Assignment, out: Path, part: str = "both") -> Built:
    """`build.build(root, assignment, out, part)` inside a sandbox.

    The sandbox sees the unpacked submission (`work`/submission) read-only and
    works on a copy of it in a tmpfs at the same path; the programs (and the
    module's host binary, the reference clients) come back in its answer and
    land in `out` on the host. The module is compiled in there too: gcc sees
    the student's sources only inside the sandbox."""
    from ..cc import CompileError, cprogs_dir
    from ..kmod.build import BuildError, kit_dir

    submission = work / "submission"
    source = work / ".submission-src"
    request = {
        "assignment": assignment.name,
        "course": _course_text(assignment),
        "source": str(source),
        "submission": str(submission),
        "root": str(root),
        "out": str(out),
        "part": part,
    }
    size = BUILD_SCRATCH_BYTES + 2 * _tree_bytes(submission)
    readonly = [(submission, source)]  # the original, inside the tmpfs
    cache = work / ".cache"  # the module build's cache: in the tmpfs, not the host's
    if part != "client" and assignment.module_scenarios:
        try:
            cprogs = cprogs_dir()  # the reference clients' sources (a checkout's ./cprogs)
            readonly.append((cprogs, cprogs))
        except CompileError:
            pass  # the build says so
        try:  # the kernel-API kit (ptsandbox's own code), compiled once out here
            kit = kit_dir()
            readonly.append((kit, cache / "kmod" / "kit" / kit.name))
        except BuildError:
            pass  # compiled in there, or the build says why not
    argv, fds = bwrap_argv(
        _python("_build_inside"),
        cwd=work,
        scratch=[(work, size)],
        readonly=readonly,
        env={"PTSANDBOX_CACHE": str(cache)},
    )
    programs = len(assignment.programs) + (len(assignment.reference_clients) + 2) * (
        part != "client" and bool(assignment.module_scenarios)
    )
    timeout = BUILD_TIMEOUT_PER_PROGRAM * max(1, programs) + SCENARIO_GRACE
    answer, err = _run(argv, fds, request, timeout)
    if answer is None:
        built = Built(root)
        for program in assignment.programs:
            built.failures[program.name] = f"the sandboxed build failed: {err}"
        built.module_failure = f"the sandboxed build failed: {err}"
        built.log.append(f"the sandboxed build failed: {err}")
        return built
    built = _built_from_dict(answer["built"])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in answer["programs"].items():
        exe = out / Path(name).name
        exe.write_bytes(base64.b64decode(data))
        exe.chmod(0o755)
        built.programs[name] = exe
    for name, data in answer.get("reference", {}).items():
        exe = out / "ref" / Path(name).name
        exe.parent.mkdir(exist_ok=True)
        exe.write_bytes(base64.b64decode(data))
        exe.chmod(0o755)
        built.reference[name] = exe
    if answer.get("module"):
        exe = out / "module" / f"{built.module_name}.host"
        exe.parent.mkdir(exist_ok=True)
        exe.write_bytes(base64.b64decode(answer["module"]))
        exe.chmod(0o755)
        built.module = exe
    return built


def _course_text(assignment: Assignment) -> str:
    """A course file travels as its text: the sandbox need not see its folder."""
    return Path(assignment.course_file).read_text() if assignment.course_file else ""


def _suite(request: dict[str, Any]) -> Assignment:
    """The request's assignment: a registered suite, or the course file it carries."""
    from .course import loads
    from .suites import ASSIGNMENTS

    if request.get("course"):
        return loads(request["course"], request["assignment"])
    return ASSIGNMENTS[request["assignment"]]


def _build_inside() -> None:
    """In the build sandbox: copy the submission into the tmpfs, build it, answer."""
    from .build import build as build_programs

    request, answer = _serve()
    shutil.copytree(request["source"], request["submission"], symlinks=True)
    built = build_programs(
        Path(request["root"]), _suite(request), Path(request["out"]), request.get("part", "both")
    )
    programs: dict[str, str] = {}
    for name, path in list(built.programs.items()):
        if path.stat().st_size > MAX_PROGRAM_BYTES:
            del built.programs[name]
            built.failures[name] = f"{name} is larger than {MAX_PROGRAM_BYTES >> 20} MiB"
            built.log.append(built.failures[name])
            continue
        programs[name] = base64.b64encode(path.read_bytes()).decode()
    reference = {
        name: base64.b64encode(path.read_bytes()).decode() for name, path in built.reference.items()
    }
    module = ""
    if built.module is not None:
        if built.module.stat().st_size > MAX_PROGRAM_BYTES:
            built.module_failure = f"the module is larger than {MAX_PROGRAM_BYTES >> 20} MiB"
            built.log.append(built.module_failure)
        else:
            module = base64.b64encode(built.module.read_bytes()).decode()
        built.module = None
    reply = _built_to_dict(built)
    reply["programs"], reply["reference"] = {}, {}
    answer({"built": reply, "programs": programs, "reference": reference, "module": module})


def run_scenario(
    assignment: Assignment,
    scenario: Scenario,
    built: Built,
    specs: list[str],
    workdir: Path,
) -> ScenarioResult:
    """`runner._run_scenario` inside a sandbox of its own. The sandbox finds the
    scenario by its assignment's and its own name (a Python function cannot be
    sent), so `assignment` may be a subset of a registered suite."""
    from .runner import _cannot_run, _run_scenario

    if _cannot_run(scenario, built):  # it only reports the build failure: no sandbox
        return _run_scenario(scenario, built, specs, workdir)
    binaries = [*built.programs.values(), *built.reference.values()]
    if built.module is not None:
        binaries.append(built.module)
    bins = sorted({p.parent for p in binaries})
    specs = [absolute_spec(s) for s in specs]  # a device file.py, from the sandbox's cwd
    request = {
        "assignment": assignment.name,
        "course": _course_text(assignment),
        "scenario": scenario.name,
        "specs": specs,
        "built": _built_to_dict(built),
        "workdir": str(workdir),
    }
    argv, fds = bwrap_argv(
        _python("_scenario_inside"),
        cwd=workdir,
        readonly=[(b, b) for b in bins],
        scratch=[(workdir, SCRATCH_BYTES)],
        specs=specs,
    )
    scale = float(os.environ.get("PTSANDBOX_GRADE_TIME_SCALE", "1"))
    answer, err = _run(argv, fds, request, scenario.limits.wall_s * scale + SCENARIO_GRACE)
    if answer is None:
        return _lost(scenario, err)
    return ScenarioResult(**answer)


def _lost(scenario: Scenario, why: str) -> ScenarioResult:
    return ScenarioResult(
        scenario.name,
        scenario.description,
        0.0,
        scenario.points,
        False,
        f"the scenario's sandbox ended without a result: {why}",
        visibility=scenario.visibility,
        part=scenario.part,
    )


def _scenario_inside() -> None:
    """In a scenario's sandbox: run it as the uncontained grader would, answer."""
    from .runner import _run_scenario

    request, answer = _serve()
    suite = _suite(request)
    [scenario] = [s for s in suite.all_scenarios() if s.name == request["scenario"]]
    built = _built_from_dict(request["built"])
    result = _run_scenario(
        scenario, built, request["specs"], Path(request["workdir"]), suite.module_params
    )
    answer(result.to_dict())


def _serve() -> tuple[dict[str, Any], Any]:
    """Read the request on stdin; keep stdout for the answer alone (the
    supervisor and its children get /dev/null as fds 0 and 1)."""
    request = json.loads(sys.stdin.read())
    reply = os.fdopen(os.dup(1), "w")  # close-on-exec: no client inherits it
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    def answer(data: dict[str, Any]) -> None:
        reply.write(json.dumps(data))
        reply.close()

    return request, answer


def die_with_parent() -> None:
    """SIGKILL this process when its parent ends (PR_SET_PDEATHSIG), as bwrap's
    --die-with-parent does for the sandboxes it starts."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getppid()
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent was already gone
        os._exit(1)


def run_contained(
    argv: list[str],
    specs: list[str],
    trace: Any,
    trace_format: str,
    stats: bool,
) -> int:
    """`ptsandbox run --contain`: `run --private` inside the sandbox `grade` uses,
    with the current directory writable and the terminal kept (no new session:
    Ctrl-C and Ctrl-Z reach the program as without it). Returns its exit code."""
    from ..supervisor import find_program

    cwd = Path.cwd()
    program = Path(find_program(argv[0])).resolve()
    readonly = [] if program.is_relative_to(cwd) else [(program, program)]
    specs = [absolute_spec(s) for s in specs]
    inner = [sys.executable, "-m", "ptsandbox", "run", "--private"]
    for spec in specs:
        inner += ["--device", spec]
    keep: list[int] = []
    if trace is not None:  # opened here, where the file is writable: the fd goes in
        keep.append(trace.fileno())
        inner += ["--trace-file", f"/dev/fd/{trace.fileno()}"]
    inner += ["--trace-format", trace_format, *(["--stats"] if stats else [])]
    inner += ["--", str(program), *argv[1:]]
    command, fds = bwrap_argv(
        inner, cwd=cwd, writable=[cwd], readonly=readonly, specs=specs, new_session=False
    )
    previous = signal.signal(signal.SIGINT, lambda *_: None)  # the program decides
    try:
        proc = subprocess.Popen(command, pass_fds=[*fds, *keep])
        for fd in fds:
            os.close(fd)
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
