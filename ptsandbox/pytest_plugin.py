"""The pytest plugin (entry point `pytest11`): write your own checks over C programs.

    @pytest.mark.points(10)
    def test_hello(sandbox, compile_c):
        joinchat = compile_c("joinchat.c")
        p1 = sandbox.spawn([joinchat, "P1"])
        p1.expect("You joined as P1")

Fixtures: `sandbox` (a private Sandbox with the built-in devices, traced;
closed after the test, leaving no process) and `compile_c` (gcc with flags,
cached; a compile error fails the test with gcc's output). The `points`
marker gives a test its weight; `--gradescope-results PATH` writes
Gradescope's results.json (JUnit XML comes from pytest's own --junitxml).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .api import Sandbox
from .cc import DEFAULT_FLAGS, CompileError
from .cc import compile_c as _compile


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ptsandbox")
    group.addoption(
        "--gradescope-results",
        metavar="PATH",
        default=None,
        help="write Gradescope's results.json, scored with @pytest.mark.points(N)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): the test's weight in the grade (default 1)")
    path = config.getoption("--gradescope-results", default=None)
    if path:
        config.pluginmanager.register(_Gradescope(Path(path)), "ptsandbox-gradescope")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A private sandbox with the built-in devices; `sandbox.trace` records the calls."""
    with Sandbox(trace=True) as sb:
        yield sb


@pytest.fixture(scope="session")
def _ptsandbox_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ptsandbox-build")


@pytest.fixture
def compile_c(request: pytest.FixtureRequest, _ptsandbox_build_dir: Path) -> Callable[..., str]:
    """compile_c("client.c", "util.c", flags=("-O2",)) -> path of the executable.

    Relative sources are taken from the test file's folder. Builds are cached
    by content and flags. A compile error fails the test (not an error in the
    test) and shows gcc's output.
    """
    base = Path(str(request.node.fspath)).parent

    def build(
        *sources: str | os.PathLike[str],
        flags: tuple[str, ...] = DEFAULT_FLAGS,
        name: str | None = None,
    ) -> str:
        __tracebackhide__ = True
        paths = [Path(s) if Path(s).is_absolute() else base / s for s in sources]
        try:
            return str(_compile(paths, name=name, flags=flags, out_dir=_ptsandbox_build_dir))
        except CompileError as e:
            error = str(e)
        # outside the except: pytest would show the CompileError too ("During
        # handling of the above exception..."), i.e. gcc's output twice
        pytest.fail(error, pytrace=False)

    return build


class _Gradescope:
    """Collects each test's outcome and points; writes results.json at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tests: dict[str, dict[str, Any]] = {}
        self.started = time.monotonic()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report = outcome.get_result()
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker and marker.args else 1.0
        entry = self.tests.setdefault(
            item.nodeid,
            {"name": item.nodeid, "max_score": points, "score": points, "status": "passed",
             "output": (item.function.__doc__ or "").strip() if hasattr(item, "function") else "",
             "visibility": "visible"},
        )  # fmt: skip
        if report.failed:
            entry["score"] = 0.0
            entry["status"] = "failed"
            entry["output"] = (entry["output"] + "\n\n" + str(report.longreprtext)).strip()
        elif report.skipped and report.when == "setup":
            entry["score"] = 0.0
            entry["status"] = "failed"
            entry["output"] = (entry["output"] + "\n\nskipped").strip()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        tests = list(self.tests.values())
        results = {
            "score": sum(t["score"] for t in tests),
            "execution_time": round(time.monotonic() - self.started, 2),
            "tests": tests,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(results, indent=2) + "\n")
