"""Grading results as text, Gradescope results.json, JUnit XML, GitHub Classroom, CSV."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .model import SubmissionResult


def gradescope(result: SubmissionResult) -> str:
    """Gradescope's results.json: per-test scores survive a partial run."""
    tests = [
        {
            "name": s.name,
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
                "name": s.name,
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
                name=s.name,
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
    lines += [f"  build: {line}" for line in result.build_log]
    for s in result.scenarios:
        mark = "PASS" if s.passed else "FAIL"
        lines.append(f"  {mark} {s.name} ({_num(s.points)}/{_num(s.max_points)}): {s.description}")
        if not s.passed:
            lines += [f"       {line}" for line in s.message.splitlines()]
    return "\n".join(lines)


def scores_csv(results: Sequence[SubmissionResult]) -> str:
    buf = io.StringIO()
    names = [s.name for s in results[0].scenarios] if results and results[0].scenarios else []
    w = csv.writer(buf)
    w.writerow(["submission", "score", "max_score", *names])
    for r in results:
        by = {s.name: s.points for s in r.scenarios}
        w.writerow(
            [r.submission, _num(r.score), _num(r.max_score), *(_num(by.get(n, 0)) for n in names)]
        )
    return buf.getvalue()


def _num(x: float) -> str:
    return f"{x:g}"
