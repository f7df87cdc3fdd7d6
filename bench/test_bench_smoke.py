"""Smoke test of the benchmark suite: every measure once, at --quick sizes.

Asserts only that each measure produced numbers (never a timing) and left no
process behind; the whole module takes a few seconds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import psutil
import pytest
import run
from measures import MEASURES, QUICK, TIMES, Row


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    yield
    me = psutil.Process(os.getpid())
    left = [p for p in me.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    for p in left:
        p.kill()
    assert not left, f"processes left behind: {[(p.pid, p.name()) for p in left]}"


# measure 7 compiles a kernel module and its runtime the first time (cached after)
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "number",
    [pytest.param(n, marks=pytest.mark.timeout(150)) if n == 7 else n for n in sorted(MEASURES)],
)
def test_measure_produces_numbers(number: int) -> None:
    result = MEASURES[number](QUICK, 1)
    assert result.number == number
    assert result.rows
    for row in result.rows:
        assert math.isfinite(row.ptsandbox), row
        if row.baseline is not None:
            assert math.isfinite(row.baseline) and row.baseline > 0, row
        if row.ratio is not None:
            assert math.isfinite(row.ratio), row
    assert result.to_json()["raw"]


@pytest.mark.timeout(150)
def test_kmod_measure_compares_the_module_with_the_python_device() -> None:
    result = MEASURES[7](QUICK, 1)
    assert [row.name for row in result.rows] == [
        "7 ioctl (hosted module)",
        "7 write (hosted module)",
        "7 read (hosted module)",
    ]
    assert all(row.baseline and row.ratio for row in result.rows)


def test_table_renders() -> None:
    row = Row("x", "ms", 2.0, 1.0, 2.0, "≤ 1", False)
    assert run.cells(row) == ["x", "2.0 ms", "1.0 ms", f"2.00{TIMES}", "≤ 1", "NO"]
