"""`just torture`: the torture suite at full scale, with its figures.

    python tests/torture/run.py [--seed N] [--ci] [ITEM ...]

Items: chat-block, chat-drop, kill-read, kill-write, kill-spin, hostile-MODE,
fuzz (default: all). Runs in a private runtime directory of its own, so no
namespace of the user's is touched. Exit status 1 if any item failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import torture_suite as ts


def items(scale: ts.Scale) -> dict[str, Callable[[ts.Programs, ts.Scale], dict[str, Any]]]:
    table: dict[str, Callable[[ts.Programs, ts.Scale], dict[str, Any]]] = {
        "chat-block": ts.chat_block,
        "chat-drop": ts.chat_drop_newest,
    }
    for kind in ("read", "write", "spin"):
        table[f"kill-{kind}"] = lambda p, s, k=kind: ts.kills(p, s, k)
    for mode in ts.HOSTILE:
        table[f"hostile-{mode}"] = lambda p, s, m=mode: ts.hostile(p, s, m)
    table["fuzz"] = ts.fuzz
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ci", action="store_true", help="the CI scale instead of the full one")
    ap.add_argument("--clients", type=int, help="K for chat-block and chat-drop (full scale: 16)")
    ap.add_argument("--messages", type=int, help="N per client, chat items (full: 1000)")
    ap.add_argument("items", nargs="*")
    args = ap.parse_args()
    scale = dataclasses.replace(ts.CI if args.ci else ts.FULL, seed=args.seed)
    for field in ("clients", "messages"):
        value = getattr(args, field)
        if value is not None:
            if value < 2:
                ap.error(f"--{field} must be at least 2")
            scale = dataclasses.replace(scale, **{field: value})
    # A bigger chat must not read as a hang: allow at least 500 deliveries a second.
    deliveries = scale.clients * (scale.clients - 1) * scale.messages
    scale = dataclasses.replace(scale, timeout=max(scale.timeout, deliveries / 500))
    runtime = tempfile.mkdtemp(prefix="ptsandbox-torture-")
    os.environ["PTSANDBOX_RUNTIME_DIR"] = runtime
    os.environ.setdefault("PTSANDBOX_IDLE_TIMEOUT", "1")
    table = items(scale)
    waiting = [f"hostile-{m}" for m in sorted(ts.NEEDS_TRACER_FIX)]
    chosen = args.items or [name for name in table if name not in waiting]
    unknown = [name for name in chosen if name not in table]
    if unknown:
        print(f"unknown item(s): {', '.join(unknown)}; known: {', '.join(table)}", file=sys.stderr)
        return 2
    print(f"# torture {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
          f"Linux {platform.release()}, {os.cpu_count()} CPUs, seed {scale.seed}, "
          f"{'ci' if args.ci else 'full'} scale")  # fmt: skip
    if not args.items and waiting:
        print(f"# left out until a tracer fix (name them to run them): {' '.join(waiting)}")
    failed = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ptsandbox-torture-build-") as build:
        progs = ts.Programs(Path(build))
        for name in chosen:
            start = time.monotonic()
            try:
                figures = table[name](progs, scale)
            except Exception as e:  # one item failing must not hide the others' figures
                failed.append(name)
                print(f"{name}: FAILED after {time.monotonic() - start:.0f}s: {e}", flush=True)
                traceback.print_exc(limit=3)
                continue
            shown = ", ".join(f"{k}={v}" for k, v in figures.items())
            print(f"{name}: ok, {shown}", flush=True)
    shutil.rmtree(runtime, ignore_errors=True)
    print(f"# {len(chosen) - len(failed)}/{len(chosen)} items held, {time.monotonic() - t0:.0f}s"
          + (f"; FAILED: {' '.join(failed)}" if failed else ""))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
