"""A submission (a folder or a zip) -> its compiled client programs.

Real submissions carry the clients, the student's header, the module source
and usually a kbuild Makefile (`obj-m := ...`) that cannot work here. The
Makefile is used only when it names an expected program as a target (or as a
prerequisite of one); otherwise each expected .c file is compiled with gcc and
the submission's own headers. The module source is never built: the reference
device plays its part.
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


def build(root: Path, assignment: Assignment, out: Path) -> Built:
    built = Built(root)
    out.mkdir(parents=True, exist_ok=True)
    makefile = next((root / n for n in ("Makefile", "makefile") if (root / n).is_file()), None)
    for pattern in assignment.module_sources:
        for module_src in sorted(root.rglob(pattern)):
            built.log.append(
                f"{module_src.relative_to(root)}: the module source is not built here; "
                "the reference device plays its part"
            )
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
