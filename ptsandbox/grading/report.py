"""Grading results as text, Gradescope results.json, JUnit XML, GitHub Classroom, CSV."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .model import ScenarioResult, SubmissionResult


def gradescope(result: SubmissionResult) -> str:
    """Gradescope's results.json: per-test scores survive a partial run."""
    tests = [
        {
            "name": _named(s),
            "score": s.points,
            "max_score": s.max_points,
            "status": "passed" if s.passed else "failed",
            "output": s.description + ("" if s.passed else "\n\n" + s.message),
            "visibility": s.visibility,
            "extra_data": {"seconds": s.seconds},
        }
        for s in result.scenarios
    ]
    out = {
        "score": result.score,
        "execution_time": round(sum(s.seconds for s in result.scenarios), 2),
        "output": "\n".join(result.build_log) + (f"\n{result.error}" if result.error else ""),
        "visibility": "visible",
        "stdout_visibility": "visible",
        "tests": tests,
    }
    return json.dumps(out, indent=2)


def github(result: SubmissionResult) -> str:
    """The result object of GitHub Classroom's autograding reporter."""
    out = {
        "version": 1,
        "status": "pass" if result.full_marks else ("error" if result.error else "fail"),
        "max_score": result.max_score,
        "tests": [
            {
                "name": _named(s),
                "status": "pass" if s.passed else "fail",
                "score": s.points,
                "max_score": s.max_points,
                "message": s.message or s.description,
                "line_no": 0,
                "execution_time": f"{s.seconds}s",
            }
            for s in result.scenarios
        ],
    }
    return json.dumps(out, indent=2)


def junit(results: Sequence[SubmissionResult]) -> str:
    suites = ET.Element("testsuites")
    for r in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{r.assignment}:{r.submission}",
            tests=str(len(r.scenarios)),
            failures=str(sum(not s.passed for s in r.scenarios)),
            errors="1" if r.error else "0",
            time=f"{sum(s.seconds for s in r.scenarios):.2f}",
        )
        if r.error:
            case = ET.SubElement(suite, "testcase", name="submission", classname=r.assignment)
            ET.SubElement(case, "error", message=r.error)
        for s in r.scenarios:
            case = ET.SubElement(
                suite,
                "testcase",
                name=_named(s),
                classname=f"{r.assignment}.{r.submission}",
                time=f"{s.seconds:.2f}",
            )
            ET.SubElement(case, "properties").append(
                ET.Element("property", name="points", value=f"{s.points}/{s.max_points}")
            )
            if not s.passed:
                failure = ET.SubElement(case, "failure", message=s.message.split("\n")[0])
                failure.text = s.message
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def text(result: SubmissionResult) -> str:
    lines = [
        f"{result.submission} — {result.assignment}: {_num(result.score)}/{_num(result.max_score)}"
    ]
    if result.error:
        lines.append(f"  cannot grade: {result.error}")
    parts = result.parts()
    if len(parts) > 1 or "module" in parts:
        shown = [f"{PART_TITLES.get(k, k)}: {_num(g)}/{_num(m)}" for k, (g, m) in parts.items()]
        lines.append("  " + ", ".join(shown))
    lines += [f"  build: {line}" for line in result.build_log]
    part = ""
    for s in result.scenarios:
        if s.part != part and "module" in parts:
            part = s.part
            lines.append(f"  -- {PART_TITLES.get(part, part)}")
        mark = "PASS" if s.passed else "FAIL"
        lines.append(f"  {mark} {s.name} ({_num(s.points)}/{_num(s.max_points)}): {s.description}")
        if not s.passed:
            lines += [f"       {line}" for line in s.message.splitlines()]
    return "\n".join(lines)


def scores_csv(results: Sequence[SubmissionResult]) -> str:
    buf = io.StringIO()
    names: list[str] = []  # every scenario any submission has (the module's when it has one)
    for r in results:
        names += [n for n in map(_named, r.scenarios) if n not in names]
    parts = [p for p in ("client", "module") if any(p in r.parts() for r in results)]
    if "module" not in parts:
        parts = []  # client scenarios only: the columns as before
    w = csv.writer(buf)
    w.writerow(["submission", "score", "max_score", *(f"{p}_score" for p in parts), *names])
    for r in results:
        by = {_named(s): s.points for s in r.scenarios}
        totals = r.parts()
        w.writerow(
            [
                r.submission,
                _num(r.score),
                _num(r.max_score),
                *(_num(totals.get(p, (0.0, 0.0))[0]) for p in parts),
                *(_num(by.get(n, 0)) for n in names),
            ]
        )
    return buf.getvalue()


PART_TITLES = {
    "client": "client (the student's clients, reference devices)",
    "module": "module (the student's kernel module)",
}


def _named(s: ScenarioResult) -> str:
    """A scenario's name in reports: the module's are "module: NAME" (scored apart)."""
    return f"module: {s.name}" if s.part == "module" else s.name


def _num(x: float) -> str:
    return f"{x:g}"
