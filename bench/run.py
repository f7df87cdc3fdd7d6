"""Run the ptsandbox benchmark suite and print ratios against same-run baselines.

    python bench/run.py              # every measure at full size (a few minutes)
    python bench/run.py --quick      # tiny sizes, a few seconds
    python bench/run.py --only 2,3   # some measures only

Each number is the median of `--runs` runs (default 5), ptsandbox and its
baseline interleaved. Writes bench/results/latest.json (every raw run, medians,
ratios, machine info) and bench/results/summary.md (the table).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import measures
from measures import FULL, MEASURES, QUICK, TIMES, Measure, Row
from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"
UNIT_FORMATS = {
    "ms": "{:,.1f} ms",
    "µs/op": "{:,.1f} µs/op",
    "msg/s": "{:,.0f} msg/s",
    "MB": "{:,.1f} MB",
    "messages": "{:,.0f}",
}


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return UNIT_FORMATS.get(unit, "{:g} " + unit).format(value)


def cells(row: Row) -> list[str]:
    """measure, ptsandbox, baseline, ratio, goal, met? as text."""
    if row.ratio_text is not None:
        ratio = row.ratio_text
    else:
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}{TIMES}"
    met = "—" if row.met is None else ("yes" if row.met else "NO")
    return [
        row.name,
        fmt(row.ptsandbox, row.unit),
        fmt(row.baseline, row.unit),
        ratio,
        row.goal,
        met,
    ]


HEADERS = ["measure", "ptsandbox", "baseline", "ratio", "goal", "met?"]


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    sources = sorted((measures.ROOT / "ptsandbox").rglob("*.py"))
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.read_bytes())
    return {
        "nproc": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "cpu": model,
        "kernel": platform.release(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "ptsandbox_sources_sha256": digest.hexdigest()[:16],
    }


def parse_only(values: list[str] | None) -> list[int]:
    if not values:
        return sorted(MEASURES)
    chosen = sorted({int(x) for v in values for x in v.split(",") if x.strip()})
    unknown = [n for n in chosen if n not in MEASURES]
    if unknown:
        raise SystemExit(f"run.py: no measure {unknown} (there are {sorted(MEASURES)})")
    return chosen


def render(results: list[Measure], console: Console) -> None:
    table = Table(title="ptsandbox vs same-run baselines (medians)")
    for h in HEADERS:
        table.add_column(h, justify="left" if h in ("measure", "goal") else "right")
    for m in results:
        for row in m.rows:
            style = "red" if row.met is False else None
            table.add_row(*cells(row), style=style)
    console.print(table)
    for m in results:
        if m.number == 5:
            for key, what in (("imports_help", "--help"), ("imports_run_true", "run /bin/true")):
                tops = ", ".join(
                    f"{r['module']} {r['cumulative_us'] / 1000:.1f} ms" for r in m.raw[key]
                )
                console.print(f"top imports (cumulative) of `ptsandbox {what}`: {tops}")


def summary_markdown(results: list[Measure], info: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        "# ptsandbox benchmarks",
        "",
        f"{meta['finished']} · {'quick sizes' if meta['quick'] else 'full sizes'} · "
        f"median of {meta['runs']} runs · {info['nproc']} CPUs ({info['cpu']}) · "
        f"Linux {info['kernel']} · Python {info['python']}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" if h in ("measure", "goal") else "---:" for h in HEADERS) + "|",
    ]
    for m in results:
        for row in m.rows:
            lines.append("| " + " | ".join(cells(row)) + " |")
    lines.append("")
    lines.append("Sizes: " + "; ".join(f"{m.number}: {m.sizes}" for m in results if m.sizes))
    for m in results:
        if m.number == 5:
            tops = ", ".join(
                f"`{r['module']}` {r['cumulative_us'] / 1000:.1f} ms" for r in m.raw["imports_help"]
            )
            lines.append("")
            lines.append(f"Top imports (cumulative) of `ptsandbox --help`: {tops}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds, not minutes)")
    parser.add_argument(
        "--only", action="append", metavar="N[,N...]", help="run only these measures (1-7)"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    console = Console(width=None if sys.stdout.isatty() else 110)
    sizes = QUICK if args.quick else FULL
    info = machine_info()
    console.print(
        f"[bold]ptsandbox bench[/] · {info['nproc']} CPUs · Linux {info['kernel']} · "
        f"Python {info['python']} · {'quick' if args.quick else 'full'} sizes · "
        f"median of {args.runs}"
    )
    started = time.monotonic()
    results: list[Measure] = []
    errors: dict[int, str] = {}
    for number in parse_only(args.only):
        t0 = time.monotonic()
        doc = (MEASURES[number].__doc__ or "").strip().splitlines()
        # no spinner: a refresh thread would compete with the supervisor for the GIL
        console.print(f"measure {number}: {doc[0] if doc else ''}", highlight=False)
        try:
            results.append(MEASURES[number](sizes, args.runs))
        except Exception:
            errors[number] = traceback.format_exc()
            console.print(f"[red]measure {number} failed[/]\n{errors[number]}")
            continue
        console.print(f"  done in {time.monotonic() - t0:.1f} s")
    render(results, console)
    meta = {
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "runs": args.runs,
        "only": parse_only(args.only),
        "duration_s": round(time.monotonic() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    document = {
        **meta,
        "machine": info,
        "measures": {str(m.number): m.to_json() for m in results},
        "errors": errors,
    }
    (args.out / "latest.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    (args.out / "summary.md").write_text(summary_markdown(results, info, meta))
    console.print(f"{args.out / 'latest.json'}, {args.out / 'summary.md'} · {meta['duration_s']} s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
