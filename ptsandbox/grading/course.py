"""Course files: one offering's variant of a suite, in TOML instead of Python.

Real offerings of an assignment differ in the clients' argv, the node's path,
the major and ioctl numbers, the output's wording and the rubric. A course
file names the built-in suite it adapts and says how that course does each
thing; `ptsandbox grade --course course.toml SUBMISSION...` grades with it.

    [course]
    name = "message-slot-2017"        # the report's assignment name
    assignment = "message-slot"       # the built-in suite it adapts
    devices = ["message_slot,profile=seed,major=245"]   # on top of the suite's
    visibility = "visible"            # Gradescope visibility of every test
    [programs]                        # client -> source, if named otherwise
    [nodes]     slot = "/dev/simple_message_slot"
    [invoke]    send = ["{channel}", "{message}"]       # argv after the program
    [commands]  (stdin lines of interactive clients, e.g. register = "/reg {name}")
    [patterns]  read = "{message}"    # a regex; {field} stands for its escaped value
    [fields]    mode = "0"            # extra {fields} of the templates
    [tests.NAME]  points, visibility, enabled, and per-test invoke/commands/
                  patterns/fields; NAME may also be an optional scenario of the
                  suite (e.g. append_mode), which the course turns on.

The suite reads the conventions of the scenario it runs with `current()`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Assignment, Program, Scenario

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
_SECTIONS = ("invoke", "commands", "patterns", "nodes", "fields")


class CourseError(ValueError):
    """A course file that cannot be used (one line for the user)."""


@dataclass(frozen=True)
class Conventions:
    """How a suite's operations look in one course.

    invoke: operation -> argv template (after the program name); commands:
    operation -> a stdin line; nodes: name -> path; patterns: name -> regex
    template; fields: default values of the templates' extra {fields}.
    `programs` names the client each invoke operation runs."""

    invoke: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    commands: Mapping[str, str] = field(default_factory=dict)
    nodes: Mapping[str, str] = field(default_factory=dict)
    patterns: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    programs: Mapping[str, str] = field(default_factory=dict)

    def _values(self, given: Mapping[str, object]) -> dict[str, str]:
        return {**self.fields, **self.nodes, **{k: str(v) for k, v in given.items()}}

    def program(self, op: str) -> str:
        return self.programs[op]

    def argv(self, op: str, **values: object) -> list[str]:
        """The arguments of operation `op`, e.g. argv("send", channel=1, message="hi")."""
        filled = self._values(values)
        return [_fill(t, filled, f"invoke.{op}") for t in self.invoke[op]]

    def command(self, op: str, **values: object) -> str:
        return _fill(self.commands[op], self._values(values), f"commands.{op}")

    def node(self, name: str) -> str:
        return self.nodes[name]

    def matches(self, pattern: str, text: str, **values: object) -> bool:
        """Does `text` match the named pattern with these values (escaped) in it?"""
        escaped = {k: re.escape(v) for k, v in self._values(values).items()}
        regex = _fill(self.patterns[pattern], escaped, f"patterns.{pattern}")
        return re.search(regex, text, re.DOTALL) is not None

    def merged(self, override: Mapping[str, Any], where: str) -> Conventions:
        """These conventions with a course's (or one test's) sections on top."""
        changes: dict[str, Any] = {}
        for section in _SECTIONS:
            given = override.get(section)
            if given is None:
                continue
            if not isinstance(given, dict):
                raise CourseError(f"{where}{section}: expected a table")
            known: Mapping[str, Any] = getattr(self, section)
            unknown = set(given) - set(known) if section in ("invoke", "commands") else set()
            if unknown:
                raise CourseError(
                    f"{where}{section}: no operation {', '.join(sorted(unknown))} in this suite "
                    f"(it has: {', '.join(sorted(known))})"
                )
            if section == "invoke":
                for op, argv in given.items():
                    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
                        raise CourseError(f"{where}invoke.{op}: expected a list of strings")
                given = {op: tuple(argv) for op, argv in given.items()}
            else:
                for key, value in given.items():
                    if not isinstance(value, str | int):
                        raise CourseError(f"{where}{section}.{key}: expected a string")
                given = {k: str(v) for k, v in given.items()}
            changes[section] = {**known, **given}
        return dataclasses.replace(self, **changes)

    def check(self, where: str, extra: Mapping[str, tuple[str, ...]]) -> None:
        """Every {field} a template names is known (a node, a field, or one the
        suite fills in for that operation: `extra`)."""
        for op, argv in self.invoke.items():
            for t in argv:
                _known(t, {*self.fields, *self.nodes, *extra.get(op, ())}, f"{where}invoke.{op}")
        for op, line in self.commands.items():
            _known(line, {*self.fields, *self.nodes, *extra.get(op, ())}, f"{where}commands.{op}")
        for name, regex in self.patterns.items():
            _known(regex, {*self.fields, *self.nodes, *extra.get(name, ())}, f"{where}patterns")


def _fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _known(template: str, known: set[str], where: str) -> None:
    try:
        unknown = _fields_of(template) - known
    except ValueError as e:
        raise CourseError(f"{where}: {e} in {template!r}") from None
    if unknown:
        raise CourseError(
            f"{where}: unknown field {{{sorted(unknown)[0]}}} in {template!r} "
            f"(known: {', '.join(sorted(known))})"
        )


def _fill(template: str, values: Mapping[str, str], where: str) -> str:
    try:
        return template.format_map(values)
    except (KeyError, ValueError, IndexError) as e:
        raise CourseError(f"{where}: cannot fill {template!r}: {e}") from None


# -- the conventions of the scenario being run --------------------------------

_CURRENT: contextvars.ContextVar[Conventions | None] = contextvars.ContextVar(
    "ptsandbox_course", default=None
)


def current(default: Conventions) -> Conventions:
    """The running scenario's conventions: its course's, or the suite's own."""
    return _CURRENT.get() or default


def _bound(run: Callable[[Any], None], conventions: Conventions) -> Callable[[Any], None]:
    def bound(ctx: Any) -> None:
        token = _CURRENT.set(conventions)
        try:
            run(ctx)
        finally:
            _CURRENT.reset(token)

    bound.__name__ = getattr(run, "__name__", "scenario")
    bound.__doc__ = run.__doc__
    return bound


# -- loading -------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteInfo:
    """What a built-in suite offers a course file."""

    defaults: Conventions
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # per operation
    extras: tuple[Scenario, ...] = ()  # optional scenarios a course can turn on


_TOP = {"course", "programs", "tests", *_SECTIONS}
_COURSE_KEYS = {"name", "assignment", "title", "devices", "visibility"}
_TEST_KEYS = {"points", "visibility", "enabled", *_SECTIONS}


def load(path: str | Path) -> Assignment:
    """The Assignment a course file describes. Raises CourseError (one line)."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise CourseError(f"{path}: {e.strerror}") from None
    return loads(text, str(path), str(Path(path).resolve()))


def loads(text: str, where_name: str, course_file: str = "") -> Assignment:
    """The Assignment a course file's text describes (`where_name` names it in errors)."""
    from .suites import ASSIGNMENTS, SUITE_INFO

    path = where_name
    where = f"{path}: "
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CourseError(f"{path}: not valid TOML: {e}") from None
    _only(data, _TOP, where)
    head = data.get("course")
    if not isinstance(head, dict):
        raise CourseError(f"{where}missing the [course] table")
    _only(head, _COURSE_KEYS, f"{where}course.")
    base_name = head.get("assignment")
    if base_name not in ASSIGNMENTS:
        raise CourseError(
            f"{where}course.assignment must name a suite ({', '.join(sorted(ASSIGNMENTS))}), "
            f"not {base_name!r}"
        )
    base = ASSIGNMENTS[base_name]
    info = SUITE_INFO.get(base_name, SuiteInfo(Conventions()))
    visibility = _visibility(head.get("visibility", "visible"), f"{where}course.visibility")
    devices = head.get("devices", [])
    if not (isinstance(devices, list) and all(isinstance(d, str) for d in devices)):
        raise CourseError(f"{where}course.devices: expected a list of --device specs")
    conventions = info.defaults.merged(data, where)
    conventions.check(where, info.fields)

    programs = data.get("programs", {})
    if not isinstance(programs, dict):
        raise CourseError(f"{where}programs: expected a table of client = source")
    names = {p.name for p in base.programs}
    unknown = set(programs) - names
    if unknown:
        raise CourseError(
            f"{where}programs: {', '.join(sorted(unknown))} is not a client of {base_name} "
            f"(its clients: {', '.join(sorted(names))})"
        )

    tests = data.get("tests", {})
    if not isinstance(tests, dict):
        raise CourseError(f"{where}tests: expected [tests.NAME] tables")
    available = {s.name: s for s in base.scenarios}
    extras = {s.name: s for s in info.extras}
    unknown = set(tests) - set(available) - set(extras)
    if unknown:
        raise CourseError(
            f"{where}tests.{sorted(unknown)[0]}: no such scenario in {base_name} (it has: "
            f"{', '.join([*available, *extras])})"
        )
    scenarios: list[Scenario] = []
    for s in [*base.scenarios, *(extras[n] for n in tests if n in extras)]:
        t = tests.get(s.name, {})
        if not isinstance(t, dict):
            raise CourseError(f"{where}tests.{s.name}: expected a table")
        tw = f"{where}tests.{s.name}."
        _only(t, _TEST_KEYS, tw)
        if not t.get("enabled", True):
            continue
        points = t.get("points", s.points)
        if not isinstance(points, int | float) or points < 0:
            raise CourseError(f"{tw}points: expected a number >= 0")
        mine = conventions.merged(t, tw)
        mine.check(tw, info.fields)
        scenarios.append(
            dataclasses.replace(
                s,
                points=float(points),
                run=_bound(s.run, mine),
                visibility=_visibility(t.get("visibility", visibility), f"{tw}visibility"),
            )
        )
    if not scenarios:
        raise CourseError(f"{where}every scenario is disabled")
    name = head.get("name", f"{base_name}-course")
    return dataclasses.replace(
        base,
        name=str(name),
        title=str(head.get("title", base.title)),
        programs=tuple(Program(p.name, str(programs.get(p.name, p.source))) for p in base.programs),
        devices=(*base.devices, *devices),
        scenarios=tuple(scenarios),
        # the student's own pair runs as the course invokes it; the reference clients
        # (cprogs/) keep the suite's own conventions
        module_scenarios=tuple(
            dataclasses.replace(s, run=_bound(s.run, conventions)) if s.clients == "student" else s
            for s in base.module_scenarios
        ),
        course_file=course_file,
    )


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise CourseError(
            f"{where}{sorted(unknown)[0]}: not a course-file key "
            f"(here: {', '.join(sorted(allowed))})"
        )


def _visibility(value: object, where: str) -> str:
    if value not in VISIBILITIES:
        raise CourseError(f"{where}: {value!r} is not one of {', '.join(VISIBILITIES)}")
    return str(value)
