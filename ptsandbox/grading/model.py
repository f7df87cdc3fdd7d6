"""Scenarios, their limits, and what grading them produced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import ScenarioContext


@dataclass(frozen=True)
class Limits:
    """Per scenario. A submission that exceeds one loses that scenario only."""

    wall_s: float = 20.0
    cpu_s: int = 10  # RLIMIT_CPU of each client process
    memory_mb: int = 512  # RLIMIT_AS of each client process
    processes: int = 64  # live traced processes at once
    output_kb: int = 256  # stdout+stderr of each client


@dataclass(frozen=True)
class Scenario:
    name: str
    points: float
    description: str
    run: Callable[[ScenarioContext], None]
    programs: tuple[str, ...]  # the clients it needs: a compile failure fails it
    limits: Limits = field(default_factory=Limits)
    devices: tuple[str, ...] = ()  # --device specs this scenario needs on top
    visibility: str = "visible"  # Gradescope: visible, hidden, after_due_date, after_published
    # "client": the student's clients against the reference device. "module": the
    # student's own kernel module plays the device, and `clients` says whose clients
    # run against it: "reference" (cprogs/, the project's own), "student" (their own
    # pair) or "probe" (the robustness probe, grading/probes/kmod_probe.c)
    part: str = "client"
    clients: str = "student"


PARTS = ("client", "module", "both")


def scenario(
    points: float,
    run: Callable[[ScenarioContext], None],
    programs: tuple[str, ...],
    limits: Limits | None = None,
    devices: tuple[str, ...] = (),
) -> Scenario:
    """A scenario named after its function, described by its docstring's first line."""
    name = run.__name__.removeprefix("seed_").removeprefix("tau_")
    description = (run.__doc__ or name).strip().splitlines()[0]
    return Scenario(name, points, description, run, programs, limits or Limits(), devices)


def module_scenario(
    points: float,
    run: Callable[[ScenarioContext], None],
    clients: str,
    programs: tuple[str, ...] = (),
    limits: Limits | None = None,
    name: str = "",
) -> Scenario:
    """A scenario run against the student's own module: `run` is a client scenario's
    function (or a robustness one), with the reference clients or the student's.
    Named `ref_X` (reference clients), `pair_X` (the student's) or `X` as given."""
    base = scenario(points, run, programs, limits)
    prefix = {"reference": "ref_", "student": "pair_"}.get(clients, "")
    return Scenario(
        name or prefix + base.name,
        points,
        base.description,
        run,
        programs,
        base.limits,
        part="module",
        clients=clients,
    )


@dataclass(frozen=True)
class Program:
    """A client the assignment expects: built from `source` into `name`."""

    name: str
    source: str


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    programs: tuple[Program, ...]
    devices: tuple[str, ...]  # the reference devices (--device specs)
    scenarios: tuple[Scenario, ...]
    module_sources: tuple[str, ...] = ()  # glob patterns of the student's module source
    # scenarios of the student's module (part "module"), and the module parameters
    # the reference device's settings stand for (mq's QUEUE_LEN=3)
    module_scenarios: tuple[Scenario, ...] = ()
    module_params: tuple[str, ...] = ()
    # the reference clients (cprogs/ sources, relative) run against the module
    reference_clients: tuple[Program, ...] = ()
    course_file: str = ""  # the course file it was loaded from (grading/course.py), if any

    @property
    def max_score(self) -> float:
        return sum(s.points for s in self.scenarios)

    def all_scenarios(self) -> tuple[Scenario, ...]:
        return self.scenarios + self.module_scenarios


class ScenarioFailed(Exception):
    """A check failed; the message says what was expected and what happened."""


@dataclass
class ScenarioResult:
    name: str
    description: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    seconds: float = 0.0
    visibility: str = "visible"
    part: str = "client"

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class SubmissionResult:
    submission: str
    assignment: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    build_log: list[str] = field(default_factory=list)
    error: str = ""  # the submission could not be graded at all

    @property
    def score(self) -> float:
        return sum(s.points for s in self.scenarios)

    @property
    def max_score(self) -> float:
        return sum(s.max_points for s in self.scenarios)

    def parts(self) -> dict[str, tuple[float, float]]:
        """(score, max score) of each part graded: "client", "module"."""
        totals: dict[str, tuple[float, float]] = {}
        for s in self.scenarios:
            got, best = totals.get(s.part, (0.0, 0.0))
            totals[s.part] = (got + s.points, best + s.max_points)
        return totals

    @property
    def full_marks(self) -> bool:
        return not self.error and self.score >= self.max_score > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "parts": {k: {"score": v[0], "max_score": v[1]} for k, v in self.parts().items()},
            "error": self.error,
            "build_log": self.build_log,
            "scenarios": [s.to_dict() for s in self.scenarios],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubmissionResult:
        r = cls(d["submission"], d["assignment"], build_log=d["build_log"], error=d["error"])
        r.scenarios = [ScenarioResult(**s) for s in d["scenarios"]]
        return r
