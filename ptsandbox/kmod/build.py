"""Compile a kernel module (a .c file or a kbuild folder) into its host binary.

The module's sources see only `include/` (-nostdinc), as under kbuild, so a
call the kernel lacks (`printf`, `strtok`, `malloc`) fails with gcc's own
diagnostic. The runtime and the host are compiled once per content and linked
with the module; everything is cached by the content of what went in.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
INCLUDE = HERE / "include"
RUNTIME = HERE / "runtime"
HOST = HERE / "host"

# kbuild's C dialect and the errors 6.1 makes fatal
KERNEL_CFLAGS = [
    "-std=gnu11",
    "-nostdinc",
    f"-I{INCLUDE}",
    "-D__KERNEL__",
    "-DMODULE",
    "-fno-strict-aliasing",
    "-fno-common",
    "-fno-omit-frame-pointer",
    "-O1",
    "-g",
    "-Wall",
    "-Wundef",
    "-Wno-unused-function",
    "-Wno-format-security",
    "-Werror=implicit-function-declaration",
    "-Werror=implicit-int",
    "-Werror=return-type",
]
SANITIZE = ["-fsanitize=address", "-fsanitize-recover=address"]
UBSAN = ["-fsanitize=undefined"]


class BuildError(Exception):
    """A module that does not compile: gcc's diagnostics and one summary line."""

    def __init__(self, summary: str, diagnostics: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class ModuleSource:
    """What to compile: the module's name (kbuild's obj-m) and its C files."""

    name: str
    sources: tuple[Path, ...]
    directory: Path
    headers: tuple[Path, ...] = ()


@dataclass
class Built:
    name: str
    binary: Path
    sources: tuple[Path, ...]
    warnings: str = ""
    cached: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def find_module(path: str | os.PathLike[str]) -> ModuleSource:
    """A .c file is a module of that name; a folder needs a kbuild Makefile (or Kbuild)."""
    p = Path(path)
    if not p.exists():
        raise BuildError(f"{path}: No such file or directory")
    if p.is_file():
        if p.suffix != ".c":
            raise BuildError(f"{path}: not a C source file (.c) or a kbuild folder")
        headers = tuple(sorted(p.parent.glob("*.h")))[:64]
        return ModuleSource(p.stem, (p.resolve(),), p.parent.resolve(), headers)
    kbuild = next((p / n for n in ("Kbuild", "Makefile", "makefile") if (p / n).is_file()), None)
    if kbuild is None:
        raise BuildError(f"{path}: a module folder needs a Makefile (or Kbuild) with obj-m")
    name, objs = parse_kbuild(kbuild.read_text(errors="replace"))
    if name is None:
        raise BuildError(f"{kbuild}: no obj-m line (obj-m := NAME.o)")
    sources = []
    for obj in objs or [f"{name}.o"]:
        src = p / (obj[:-2] + ".c")
        if not src.is_file():
            raise BuildError(f"{kbuild}: {obj} needs {src.name}, which is not in {path}")
        sources.append(src.resolve())
    headers = tuple(sorted(p.glob("*.h")))[:64]
    return ModuleSource(name, tuple(sources), p.resolve(), headers)


def parse_kbuild(text: str) -> tuple[str | None, list[str]]:
    """(module name, its objects) from `obj-m := x.o` and `x-objs := a.o b.o` (or x-y)."""
    text = text.replace("\\\n", " ")
    name = None
    assigns: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*(?::=|\+=|\?=|=)\s*(.*)$", line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).split()
        if key == "obj-m" and value and name is None:
            name = value[0][:-2] if value[0].endswith(".o") else value[0]
        assigns.setdefault(key, []).extend(value)
    if name is None:
        return None, []
    objs = assigns.get(f"{name}-objs") or assigns.get(f"{name}-y") or []
    return name, [o for o in objs if o.endswith(".o")]


def cache_root() -> Path:
    base = os.environ.get("PTSANDBOX_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ptsandbox"
    )
    return Path(base) / "kmod"


def _digest(paths: list[Path], extra: list[str]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.name).encode() + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()[:24]


def _kit_files() -> list[Path]:
    files = sorted(INCLUDE.rglob("*.h")) + sorted(RUNTIME.glob("*")) + sorted(HOST.glob("*"))
    return [f for f in files if f.is_file()]


def _gcc() -> str:
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("gcc")
    if cc is None:
        raise BuildError("gcc is not installed: kernel modules need it to compile")
    return cc


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


def _runtime_objects(cc: str, sanitize: bool) -> list[Path]:
    """The runtime and host objects, compiled once per content of the kit."""
    key = _digest(_kit_files(), [cc, str(sanitize), "kit-v1"])
    out = cache_root() / "kit" / key
    objs = [out / f"{src.stem}.o" for src in sorted(RUNTIME.glob("*.c"))] + [out / "host.o"]
    if all(o.exists() for o in objs):
        return objs
    tmp = Path(tempfile.mkdtemp(prefix="kit-", dir=_ensure(out.parent)))
    san = SANITIZE if sanitize else []
    jobs: list[tuple[str, list[str]]] = [
        (
            src.name,
            [
                cc,
                *KERNEL_CFLAGS,
                f"-I{RUNTIME}",
                *san,
                "-c",
                str(src),
                "-o",
                str(tmp / f"{src.stem}.o"),
            ],
        )
        for src in sorted(RUNTIME.glob("*.c"))
    ]
    host_flags = ["-std=gnu11", "-O1", "-g", "-fno-omit-frame-pointer", "-Wall", *san]
    jobs.append(
        ("host.c", [cc, *host_flags, "-c", str(HOST / "host.c"), "-o", str(tmp / "host.o")])
    )
    # all at once: the kit is a dozen files, built once per version
    procs = [
        (name, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for name, cmd in jobs
    ]
    errors = [(name, p.communicate()[1]) for name, p in procs]
    for (name, err), (_, p) in zip(errors, procs, strict=True):
        if p.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise BuildError(f"internal error: the kernel runtime ({name}) does not compile", err)
    try:
        tmp.rename(out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another build got there first
    return objs


def kit_dir(sanitize: bool = True) -> Path:
    """The compiled runtime and host (compiled now if not cached): `grade` binds it
    read-only into its build sandboxes, so that each build only compiles the module."""
    return _runtime_objects(_gcc(), sanitize)[0].parent


def _ensure(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def build(
    path: str | os.PathLike[str], sanitize: bool = True, modules: Path | None = None
) -> Built:
    """Compile (or take from the cache) the module at `path` into its host binary,
    cached in `modules` (default: the cache's modules/; `grade` gives its own
    temporary directory: nothing of a submission stays behind)."""
    mod = find_module(path)
    cc = _gcc()
    kit = _runtime_objects(cc, sanitize)
    flags = [
        *KERNEL_CFLAGS,
        f'-DKBUILD_MODNAME="{mod.name}"',
        *(SANITIZE + UBSAN if sanitize else []),
    ]
    key = _digest(
        [*mod.sources, *mod.headers, *kit], [cc, mod.name, *flags, *map(str, mod.sources)]
    )
    out = (modules or cache_root() / "modules") / f"{mod.name}-{key}"
    binary = out / f"{mod.name}.host"
    if binary.exists():
        warnings = (out / "warnings.txt").read_text() if (out / "warnings.txt").exists() else ""
        return Built(mod.name, binary, mod.sources, warnings, cached=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{mod.name}-", dir=_ensure(out.parent)))
    warned: list[str] = []
    objs = []
    for src in mod.sources:
        obj = tmp / f"{src.stem}.o"
        basename = f'-DKBUILD_BASENAME="{src.stem}"'
        rel = os.path.relpath(src, mod.directory)
        # compile from the module's folder with a relative name, so that
        # diagnostics and reports say "message_slot.c:42" as kbuild's would
        res = _run(
            [cc, *flags, basename, f"-I{mod.directory}", "-c", rel, "-o", str(obj)],
            cwd=mod.directory,
        )
        if res.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise BuildError(
                f"{mod.name}: module does not compile (gcc exit {res.returncode})", res.stderr
            )
        if res.stderr.strip():
            warned.append(res.stderr)
        objs.append(obj)
    link_san = ["-fsanitize=address,undefined"] if sanitize else []
    res = _run(
        [
            cc,
            "-no-pie",
            *link_san,
            "-o",
            str(tmp / binary.name),
            *map(str, objs),
            *map(str, kit),
            "-lpthread",
        ]
    )
    if res.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(
            f"{mod.name}: module does not link (gcc exit {res.returncode})",
            _link_diagnostics(res.stderr),
        )
    (tmp / "warnings.txt").write_text("".join(warned))
    try:
        tmp.rename(out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return Built(mod.name, binary, mod.sources, "".join(warned))


def _link_diagnostics(text: str) -> str:
    """The linker's complaints, minus object paths in our cache (undefined symbols stay)."""
    return "\n".join(line for line in text.splitlines() if "collect2" not in line)
