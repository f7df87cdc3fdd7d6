"""A submission (a folder or a zip) -> its compiled client programs.

Real submissions carry the clients, the student's header, the module source
and usually a kbuild Makefile (`obj-m := ...`) that cannot work here. The
Makefile is used only when it names an expected program as a target (or as a
prerequisite of one); otherwise each expected .c file is compiled with gcc and
the submission's own headers.

When the module is graded (`grade --part module|both`) the module source is
compiled against ptsandbox's user-space kernel API (ptsandbox/kmod/build.py,
as `run --module` does) into its host binary, and the reference clients
(cprogs/) and the robustness probe are compiled with the submission's own
course header where it fits them. A module that does not compile keeps gcc's
diagnostics in `Built.module_failure`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..cc import CompileError, compile_c
from .model import Assignment, Program

MAKE_TIMEOUT = 60


@dataclass
class Built:
    root: Path  # the unpacked submission
    programs: dict[str, Path] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # program -> compiler output
    log: list[str] = field(default_factory=list)
    # the student's module (part "module"): its host binary, or why there is none
    module: Path | None = None
    module_name: str = ""
    module_sources: list[str] = field(default_factory=list)  # file names, for reports
    module_failure: str = ""  # gcc's diagnostics, or "no module source ..."
    # the reference clients and the probe that run against the module
    reference: dict[str, Path] = field(default_factory=dict)
    reference_failures: dict[str, str] = field(default_factory=dict)

    def with_reference_clients(self) -> Built:
        """The same build with the reference clients in place of the student's."""
        return Built(
            self.root,
            dict(self.reference),
            dict(self.reference_failures),
            self.log,
            self.module,
            self.module_name,
            self.module_sources,
            self.module_failure,
            self.reference,
            self.reference_failures,
        )


NO_MODULE = "the submission has no module source"
PROBE = Path(__file__).parent / "probes" / "kmod_probe.c"


class SubmissionError(Exception):
    """The submission cannot be read at all (one line for the user)."""


def unpack(path: Path, into: Path) -> Path:
    """Copy a folder, or extract a zip (refusing paths that escape), into `into`."""
    if path.is_dir():
        shutil.copytree(path, into / "submission", symlinks=True)  # a link to ~/.ssh stays a link
        return into / "submission"
    if path.suffix == ".zip" and path.is_file():
        root = into / "submission"
        try:
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    target = (root / member).resolve()
                    if not str(target).startswith(str(root.resolve())):
                        raise SubmissionError(f"{path}: {member} would land outside the folder")
                z.extractall(root)
        except zipfile.BadZipFile:
            raise SubmissionError(f"{path}: not a zip file") from None
        # a zip of one folder: grade that folder
        entries = [p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX"))]
        if len(entries) == 1 and entries[0].is_dir():
            return entries[0]
        return root
    raise SubmissionError(f"{path}: no such folder or zip file")


def _find_source(root: Path, program: Program) -> Path | None:
    direct = root / program.source
    if direct.is_file():
        return direct
    found = sorted(root.rglob(program.source))
    return found[0] if found else None


def _makefile_builds(makefile: Path, name: str) -> bool:
    """Does the Makefile name `name` as a target, or as a prerequisite of one?"""
    text = makefile.read_text(errors="replace")
    for line in text.splitlines():
        if line.startswith(("\t", "#")) or ":" not in line or "=" in line.split(":")[0]:
            continue
        targets, _, prereqs = line.partition(":")
        if name in targets.split() or name in prereqs.split():
            return True
    return False


def module_sources(root: Path, assignment: Assignment) -> list[Path]:
    """The submission's module sources the assignment's patterns find."""
    found: list[Path] = []
    for pattern in assignment.module_sources:
        found += [p for p in sorted(root.rglob(pattern)) if p.is_file() and p not in found]
    return found


def build(root: Path, assignment: Assignment, out: Path, part: str = "both") -> Built:
    built = Built(root)
    out.mkdir(parents=True, exist_ok=True)
    makefile = next((root / n for n in ("Makefile", "makefile") if (root / n).is_file()), None)
    sources = module_sources(root, assignment)
    shown = ", ".join(str(p.relative_to(root)) for p in sources)
    if sources and not assignment.module_scenarios:
        built.log.append(
            f"{shown}: not a loadable module (this assignment's kernel part is not hosted); "
            "the reference device plays its part"
        )
    elif assignment.module_scenarios and part == "client":
        if sources:
            built.log.append(f"{shown}: the module is not graded (--part client)")
    elif assignment.module_scenarios:
        if sources:
            _build_module(root, sources[0], assignment, out / "module", built)
        else:
            wanted = " or ".join(assignment.module_sources)
            built.module_failure = f"{NO_MODULE} ({wanted})"
            built.log.append(built.module_failure)
    for program in assignment.programs:
        if makefile is not None and _makefile_builds(makefile, program.name):
            made = _make(root, program.name, built)
            if made is not None:
                built.programs[program.name] = made
                continue
        source = _find_source(root, program)
        if source is None:
            built.failures[program.name] = f"{program.source} is missing from the submission"
            built.log.append(built.failures[program.name])
            continue
        includes = sorted({f"-I{p.parent}" for p in root.rglob("*.h")} | {f"-I{source.parent}"})
        try:
            exe = compile_c(
                [source],
                name=program.name,
                flags=("-Wall", "-O2", "-pthread", *includes),
                out_dir=out / "cache",
            )
        except CompileError as e:
            built.failures[program.name] = str(e)
            built.log.append(f"{program.name}: compile error")
            continue
        named = out / program.name  # reports and traces show the student's program name
        shutil.copy2(exe, named)
        built.programs[program.name] = named
        built.log.append(f"{program.name}: gcc {source.relative_to(root)}")
    return built


def _module_path(root: Path, source: Path) -> Path:
    """The module as kbuild would build it: the source's folder when its kbuild
    Makefile names the module (obj-m) and every object's source is there, else the file."""
    from ..kmod.build import BuildError, find_module

    try:
        folder = find_module(source.parent)
    except BuildError:
        return source
    return source.parent if source in folder.sources else source


def _build_module(
    root: Path, source: Path, assignment: Assignment, out: Path, built: Built
) -> None:
    from ..kmod.build import BuildError
    from ..kmod.build import build as build_module

    path = _module_path(root, source)
    shown = str(source.relative_to(root))
    if path.is_dir():
        where = path.relative_to(root)
        shown = "its kbuild Makefile" + ("" if str(where) == "." else f" in {where}/")
    try:
        made = build_module(path, modules=out / "build")  # in the grading's temporary dir
    except BuildError as e:
        built.module_failure = "\n".join(
            t for t in (e.diagnostics.strip(), f"ptsandbox: {e.summary}") if t
        )
        built.log.append(f"{shown}: module compile error ({e.summary})")
        return
    out.mkdir(parents=True, exist_ok=True)
    binary = out / made.binary.name
    shutil.copy2(made.binary, binary)
    built.module, built.module_name = binary, made.name
    built.module_sources = [p.name for p in made.sources]
    warned = len([ln for ln in made.warnings.splitlines() if "warning:" in ln])
    built.log.append(
        f"module {made.name}: built from {shown} against the kernel API stand-in"
        + (f" ({warned} gcc warnings)" if warned else "")
    )
    _build_reference(root, assignment, out, built)


def _build_reference(root: Path, assignment: Assignment, out: Path, built: Built) -> None:
    """The reference clients (cprogs/) and the probe, with the submission's course
    header where they compile with it (its major, its ioctl numbers), else ours."""
    from ..cc import cprogs_dir

    try:
        cprogs = cprogs_dir()
    except CompileError as e:
        for program in assignment.reference_clients:
            built.reference_failures[program.name] = str(e)
        return
    headers = {h.name: h for h in sorted(root.rglob("*.h"), reverse=True)}
    wanted = [*assignment.reference_clients, Program("kmod_probe", str(PROBE))]
    for program in wanted:
        source = cprogs / program.source
        theirs = [h for h in _includes(source) if h in headers]
        exe: Path | None = None
        for use_theirs in [True, False] if theirs else [False]:
            work = Path(tempfile.mkdtemp(prefix="ref-", dir=out))
            shutil.copy2(source, work / source.name)
            for header in sorted(source.parent.glob("*.h")):
                shutil.copy2(header, work / header.name)
            if use_theirs:
                for name in theirs:
                    shutil.copy2(headers[name], work / name)
            try:
                exe = compile_c(
                    [work / source.name],
                    name=program.name,
                    flags=("-Wall", "-O2", "-pthread"),
                    out_dir=out / "cache",
                )
            except CompileError as e:
                if not use_theirs:
                    built.reference_failures[program.name] = str(e)
                continue
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if theirs and program.name != "kmod_probe":
                whose = "the submission's" if use_theirs else "cprogs' (theirs did not fit)"
                shown = ", ".join(theirs)
                built.log.append(f"reference {program.name}: built with {whose} {shown}")
            break
        if exe is not None:
            named = out / "ref" / program.name
            named.parent.mkdir(exist_ok=True)
            shutil.copy2(exe, named)
            built.reference[program.name] = named


def _includes(source: Path) -> list[str]:
    """The local headers a C file includes ("x.h")."""
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', source.read_text(), re.M)


def _make(root: Path, name: str, built: Built) -> Path | None:
    make = shutil.which("make")
    if make is None:
        built.log.append(f"{name}: the Makefile has a target, but make is not installed")
        return None
    try:
        proc = subprocess.run(
            [make, "-C", str(root), name],
            capture_output=True,
            text=True,
            timeout=MAKE_TIMEOUT,
            env=dict(os.environ, MAKEFLAGS=""),
        )
    except subprocess.TimeoutExpired:
        built.log.append(f"{name}: make {name} took over {MAKE_TIMEOUT}s; using gcc instead")
        return None
    exe = root / name
    if proc.returncode == 0 and exe.is_file() and os.access(exe, os.X_OK):
        built.log.append(f"{name}: built by the submission's Makefile (make {name})")
        return exe
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
    built.log.append(f"{name}: make {name} failed; using gcc instead: {' / '.join(tail)}")
    return None


def fresh_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


_WORD = re.compile(r"\w+")
