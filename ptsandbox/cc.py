"""Compiling C programs with gcc, cached by the hash of sources and flags."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

DEFAULT_FLAGS = ("-Wall", "-O2", "-pthread")


class CompileError(Exception):
    """gcc is missing or refused the program; the message holds its output."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ptsandbox" / "build"


def compile_c(
    sources: Sequence[str | Path],
    name: str | None = None,
    flags: Sequence[str] = DEFAULT_FLAGS,
    out_dir: Path | None = None,
) -> Path:
    """Build `sources` into an executable and return its path (reused if unchanged)."""
    gcc = shutil.which(os.environ.get("CC", "gcc"))
    if gcc is None:
        raise CompileError(
            "gcc not found: install gcc (e.g. apt-get install gcc) to build C programs"
        )
    paths = [Path(s) for s in sources]
    digest = hashlib.sha256(" ".join(flags).encode())
    for p in paths:
        try:
            digest.update(p.read_bytes())
        except OSError as e:
            raise CompileError(f"{p}: {e.strerror}") from None
        # headers next to the sources count too
        for header in sorted(p.parent.glob("*.h")):
            digest.update(header.read_bytes())
    target_dir = out_dir or cache_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    exe = target_dir / f"{name or paths[0].stem}-{digest.hexdigest()[:12]}"
    if exe.exists() and exe.stat().st_size > 0 and os.access(exe, os.X_OK):
        return exe
    tmp = exe.with_suffix(f".tmp{os.getpid()}")
    proc = subprocess.run(
        [gcc, *flags, "-o", str(tmp), *map(str, paths)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise CompileError(f"gcc failed for {', '.join(map(str, paths))}:\n{proc.stderr.strip()}")
    tmp.replace(exe)  # atomic: parallel builds of the same program never see half a file
    return exe


def cprogs_dir() -> Path:
    """The C clients shipped with ptsandbox (in a checkout: ./cprogs)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "cprogs", here.parent / "cprogs"):
        if (candidate / "joinchat.c").exists():
            return candidate
    raise CompileError("the cprogs/ sources are not installed with this ptsandbox")
