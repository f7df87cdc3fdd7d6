"""The `ptsandbox` command line (typer). Imports of the heavy parts stay lazy."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="ptsandbox",
    help=(
        "Run unmodified C programs against emulated kernel devices "
        "(/dev/chatroom, ...) under a ptrace supervisor: no kernel module, no root, no VM."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"ptsandbox {version('ptsandbox')}")
        raise typer.Exit(0)


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Run unmodified C programs against emulated kernel devices (/dev/chatroom, ...)
    under a ptrace supervisor: no kernel module, no root, no VM."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """One clear line on stderr and an exit code: never a traceback. Lines before it
    (a compiler's diagnostics) are printed as they are."""
    *details, last = message.split("\n")
    for line in details:
        typer.echo(line, err=True)
    typer.echo(f"ptsandbox: {last}", err=True)
    return typer.Exit(code)


NamespaceOpt = Annotated[
    str,
    typer.Option("--namespace", "-n", help="the namespace (one shared supervisor) to use"),
]


@app.command(
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
def run(
    program: Annotated[str, typer.Argument(help="the program to run (searched in PATH)")],
    args: Annotated[list[str] | None, typer.Argument(help="its arguments")] = None,
    device: Annotated[
        list[str] | None,
        typer.Option(
            "--device",
            "-d",
            metavar="SPEC",
            help="NAME[,KEY=VALUE...]: a built-in device (given again: new parameters), "
            "package.module:Class or file.py:Class. E.g. chatroom,path=/dev/chat_room,queue_len=16",
        ),
    ] = None,
    module: Annotated[
        list[str] | None,
        typer.Option(
            "--module",
            metavar="PATH[,NAME=VALUE...]",
            help="a kernel module's source (a .c file or a kbuild folder), compiled and "
            "loaded for the run with its module parameters; repeatable",
        ),
    ] = None,
    namespace: NamespaceOpt = "default",
    private: Annotated[
        bool,
        typer.Option(
            "--private", help="a throwaway supervisor of its own instead of a shared namespace"
        ),
    ] = False,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help="print each syscall that touched the sandbox, strace style; "
            "--trace=FILE writes them to FILE",
        ),
    ] = False,
    trace_file: Annotated[str | None, typer.Option("--trace-file", hidden=True)] = None,
    trace_format: Annotated[
        str,
        typer.Option(
            "--trace-format", help="text (strace style) or jsonl (one JSON object a call)"
        ),
    ] = "text",
    timestamps: Annotated[
        int,
        typer.Option(
            "--timestamps",
            "-t",
            count=True,
            help="trace: prefix the time, as strace: -t seconds, -tt microseconds, -ttt epoch",
        ),
    ] = 0,
    durations: Annotated[
        bool, typer.Option("--durations", "-T", help="trace: the time spent in each call")
    ] = False,
    expr: Annotated[
        str | None,
        typer.Option(
            "--expr",
            "-e",
            metavar="trace=NAME,...",
            help="trace only these syscalls (strace's -e trace=ioctl,read)",
        ),
    ] = None,
    stats: Annotated[
        bool, typer.Option("--stats", help="at exit, print how many stops the supervisor handled")
    ] = False,
    contain: Annotated[
        bool,
        typer.Option(
            "--contain",
            help="run it in the bubblewrap sandbox `grade` uses: read-only system, "
            "no home, no network, only the current directory writable (implies --private)",
        ),
    ] = False,
    pin_cpu: Annotated[
        int | None,
        typer.Option(
            "--pin-cpu",
            metavar="CPU",
            help="with --private: run the supervisor and the program on this one CPU. "
            "Faster for chatty programs on small VMs, where a wake-up across CPUs costs "
            "more than the stop itself (bench measure 6)",
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="ptrace (default) or notify: read/write/ioctl on device fds answered "
            "from seccomp user notifications, without a ptrace stop (Linux 6.9+; "
            "falls back to ptrace). A namespace already running keeps its own",
        ),
    ] = None,
) -> None:
    """Run PROGRAM with the emulated devices at their paths.

    By default the program joins the shared namespace "default" (started in
    the background if needed), so `ptsandbox run ./joinchat P1` in three
    terminals is one chat room. It keeps your terminal: Ctrl-C, Ctrl-Z and
    `fg` work as without ptsandbox.

    Tracing: --trace prints to stderr, --trace=FILE writes FILE. Any trace
    option (--trace-format jsonl, -t, -T, -e) turns tracing on by itself.

    Exits with the program's status, or 128+N if signal N killed it. Use `--`
    before the program if its arguments look like options.
    """
    from .devices import build_devices
    from .runner import run_in_namespace, run_program
    from .trace_format import TraceOptionError, TraceOptions, TraceWriter, parse_filter

    argv = [program, *(args or [])]
    device = [*(device or []), *(module or [])]
    if backend is not None:
        from .notify import BACKEND_ENV, BACKENDS

        if backend not in BACKENDS:
            raise fail(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        os.environ[BACKEND_ENV] = backend  # our supervisor, or the namespace's we start
    if trace_format not in ("text", "jsonl"):
        raise fail(f"--trace-format must be text or jsonl, not {trace_format!r}")
    try:
        only = parse_filter(expr) if expr is not None else None
    except TraceOptionError as e:
        raise fail(str(e)) from None
    # a trace option alone asks for a trace: it would mean nothing otherwise
    trace = trace or trace_format != "text" or bool(timestamps) or durations or only is not None
    try:
        devices = build_devices(device or [])
    except ValueError as e:
        raise fail(str(e)) from None
    try:
        out = open_trace(trace_file if trace_file is not None else "-" if trace else None)
    except OSError as e:
        raise fail(f"--trace: {e.filename}: {e.strerror}") from None
    opts = TraceOptions(trace_format, min(timestamps, 3), durations, only)
    sink = TraceWriter(out, opts).write if out is not None else None
    if pin_cpu is not None:
        if not private:
            raise fail("--pin-cpu needs --private (a namespace serves programs on any CPU)")
        try:
            os.sched_setaffinity(0, {pin_cpu})  # the program inherits it
        except (OSError, ValueError) as e:
            raise fail(f"--pin-cpu {pin_cpu}: {e}") from None
    if contain:
        from .grading.contain import ContainError, run_contained, unavailable
        from .supervisor import ProgramNotFound

        if why := unavailable():
            raise fail(f"{why}: --contain needs it (apt-get install bubblewrap)")
        try:
            code = run_contained(argv, device or [], out, trace_format, stats)
        except ProgramNotFound as e:
            raise fail(str(e), e.exit_code) from None
        except ContainError as e:
            raise fail(str(e)) from None
    elif private:
        code = run_program(argv, devices, sink, stats)
    else:
        code = run_in_namespace(argv, namespace, device or [], sink, stats)
    raise typer.Exit(code)


@app.command(
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
def record(
    program: Annotated[str, typer.Argument(help="the program to run and record")],
    args: Annotated[list[str] | None, typer.Argument(help="its arguments")] = None,
    out: Annotated[
        str, typer.Option("--out", "-o", help="the session file to write (JSON lines)")
    ] = "session.jsonl",
    device: Annotated[
        list[str] | None, typer.Option("--device", "-d", metavar="SPEC", help="as for run")
    ] = None,
    namespace: NamespaceOpt = "default",
    private: Annotated[
        bool, typer.Option("--private", help="a throwaway supervisor of its own")
    ] = False,
) -> None:
    """Run PROGRAM as `run` does and record every call that touched the sandbox:
    arguments, the bytes moved each way, results and timing, per process and
    thread (the format: ptsandbox/record.py). `ptsandbox replay` plays it back."""
    from .devices import absolute_spec, build_devices
    from .record import Recorder, device_info
    from .runner import run_in_namespace, run_program

    argv = [program, *(args or [])]
    try:
        devices = build_devices(device or [])
    except ValueError as e:
        raise fail(str(e)) from None
    try:
        f = open(out, "w")  # noqa: SIM115 - closed by the `with` below, errors first
    except OSError as e:
        raise fail(f"--out: {out}: {e.strerror}") from None
    with f:
        if private:
            info = device_info({d.name: d for d in devices},
                               {d.name: [n.path for n in d.nodes()] for d in devices})  # fmt: skip
            recorder = Recorder(f, argv, info)
            code = run_program(argv, devices, recorder.write, False, data=True)
        else:
            specs = [absolute_spec(d) for d in device or []]
            recorder = Recorder(f, argv, _namespace_devices(namespace, specs))
            code = run_in_namespace(argv, namespace, [], recorder.write, False, data=True)
    typer.echo(f"ptsandbox: recorded {recorder.calls} call(s) in {out}", err=True)
    raise typer.Exit(code)


def _namespace_devices(namespace: str, specs: list[str]) -> dict[str, Any]:
    """The namespace's devices (loading what --device asks first) for a recording's header."""
    from .devices import BUILTIN
    from .namespace import NamespaceError

    conn = _connect(namespace, start=True)
    try:
        if specs:
            conn.request("ensure", specs=specs)
        status = conn.request("status")["status"]
    except NamespaceError as e:
        raise fail(str(e)) from None
    finally:
        conn.close()
    info: dict[str, Any] = {}
    for name, d in status["devices"].items():
        syscalls: dict[str, str] = {}
        if name in BUILTIN:
            with contextlib.suppress(ValueError):
                built = BUILTIN[name](config=dict(d["params"]))
                syscalls = {str(nr): h.__name__ for nr, h in built.syscalls().items()}
        info[name] = {"major": d["major"], "nodes": d["nodes"], "syscalls": syscalls,
                      "params": d["params"]}  # fmt: skip
    return info


@app.command(
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
def replay(
    session: Annotated[str, typer.Argument(help="a session file from `ptsandbox record`")],
    program: Annotated[str, typer.Argument(help="the program to serve it to")],
    args: Annotated[list[str] | None, typer.Argument(help="its arguments")] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="divide the recorded sleeps by this")
    ] = 1.0,
) -> None:
    """Serve a recorded session's device side to PROGRAM (the same program or
    another): each device call is answered from the recording, in order per
    thread, sleeping where the recording slept. Every divergence (another
    call, other arguments, other data) is reported with both sides; exits 1
    after any, else with the program's status. Matching rules: ptsandbox/replay.py."""
    from .record import load
    from .replay import Replayer, attach, stand_ins
    from .runner import run_program

    if speed <= 0:
        raise fail("--speed must be positive")
    try:
        header, records = load(session)
    except ValueError as e:
        raise fail(str(e)) from None
    replayer = Replayer(records, speed=speed)
    argv = [program, *(args or [])]
    if argv[0] == "--":  # `replay SESSION -- PROG ...`: the separator reaches us here
        argv = argv[1:]
    if not argv:
        raise fail("replay: no program given")
    code = run_program(
        argv, stand_ins(header, replayer), None, False, setup=lambda sup: attach(replayer, sup)
    )
    divergences = replayer.finish()
    if divergences:
        typer.echo(f"ptsandbox: replay: {len(divergences)} divergence(s) from {session}", err=True)
        raise typer.Exit(1)
    raise typer.Exit(code)


def open_trace(trace: str | None) -> Any:
    if trace is None:
        return None
    if trace == "-":
        return sys.stderr
    return open(trace, "w", buffering=1)


@app.command()
def devices() -> None:
    """List the built-in devices and their parameters."""
    from rich.console import Console
    from rich.table import Table

    from .devices import BUILTIN

    table = Table(title="built-in devices")
    table.add_column("device")
    table.add_column("major", justify="right")
    table.add_column("parameter", overflow="fold")
    table.add_column("default", overflow="fold")
    table.add_column("meaning", overflow="fold", ratio=1)
    for name, cls in BUILTIN.items():
        for i, p in enumerate(cls.all_params()):
            bounds = f" [{p.min}..{p.max}]" if p.min is not None else ""
            # spaces between the choices, so that a narrow terminal wraps, never cuts them
            choices = f" (one of: {', '.join(p.choices)})" if p.choices else ""
            table.add_row(
                name if i == 0 else "",
                str(cls.major) if i == 0 else "",
                p.name,
                _shown_default(p),
                p.help + bounds + choices,
            )
    Console().print(table)


def _shown_default(p: Any) -> str:
    if p.show == "ioctl" and isinstance(p.default, int):
        from .devices.ioctl import macro

        return f"{p.default:#x} {macro(p.default)}"
    return str(p.default)


DEMO_NAMES = ("chatroom", "message-slot", "mq", "mailbox")


@app.command()
def demo(
    assignment: Annotated[
        str, typer.Argument(help="which demo: chatroom, message-slot, mq or mailbox")
    ] = "chatroom",
) -> None:
    """Replay an assignment's flow with real compiled clients and show what each saw."""
    from .api import ExpectTimeout
    from .cc import CompileError

    if assignment not in DEMO_NAMES:
        raise fail(f"no demo named {assignment!r} (available: {', '.join(DEMO_NAMES)})")
    typer.echo(f"compiling the {assignment} clients with gcc and running them ...", err=True)
    try:
        if assignment == "chatroom":
            from .demo import print_timeline, run_chatroom_demo

            print_timeline(run_chatroom_demo())
        else:
            from .demos import DEMOS

            DEMOS[assignment]()
    except (CompileError, ExpectTimeout) as e:
        raise fail(str(e), 1) from None


GRADE_FORMATS = ("text", "gradescope", "junit", "github")


@app.command()
def grade(
    submissions: Annotated[
        list[str], typer.Argument(help="submission folders or zip files", metavar="SUBMISSION...")
    ],
    assignment: Annotated[
        str,
        typer.Option(
            "--assignment",
            "-a",
            help="chatroom, message-slot, message-slot-tau, mq or mailbox",
        ),
    ] = "",
    course: Annotated[
        str | None,
        typer.Option(
            "--course",
            "-c",
            metavar="COURSE.toml",
            help="a course file: the suite adapted to one offering (argv, node paths, "
            "devices, points, visibility); see docs/grading.md",
        ),
    ] = None,
    device: Annotated[
        list[str] | None,
        typer.Option(
            "--device",
            "-d",
            metavar="SPEC",
            help="adjust the reference device to the class's header (path, major, ioctl "
            "numbers, syscall numbers), e.g. message_slot,major=240",
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, gradescope, junit or github")
    ] = "text",
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="write the report here (gradescope: results.json)"),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="submissions graded at once; 0 (the default): half the CPUs, at least one",
        ),
    ] = 0,
    no_contain: Annotated[
        bool,
        typer.Option(
            "--no-contain",
            help="run builds and scenarios without the bubblewrap sandbox: "
            "only inside a throwaway container",
        ),
    ] = False,
    part: Annotated[
        str,
        typer.Option(
            "--part",
            "-p",
            help="what to grade: client (the student's clients against the reference "
            "devices), module (the student's kernel module: the reference clients, their "
            "own pair and robustness against it) or both (the module's scenarios when the "
            "submission has its source)",
        ),
    ] = "both",
    csv_out: Annotated[
        str | None,
        typer.Option(
            "--csv",
            help="with several submissions, write the scores table here "
            "(default: the report's name + .csv, e.g. junit.xml.csv; else scores.csv)",
        ),
    ] = None,
) -> None:
    """Grade students' C clients against the reference devices, and their kernel module.

    Each submission is a folder or a zip with the clients, the student's header
    and usually a module source and a kbuild Makefile. The clients are built
    (with the Makefile if it has a target for them, else gcc). The module source
    is compiled against ptsandbox's user-space kernel API and graded apart
    (--part): the reference clients, the student's own pair and robustness
    probes run against it, and a bug report from it (KASAN, Oops, kmemleak ...)
    fails the scenario. Every scenario of the
    assignment runs in a fresh private sandbox, with its own time, CPU, memory,
    process and output limits. Each build and each scenario runs in a bubblewrap
    sandbox (README: Threat model): the submission sees a read-only system, no
    home, no network, nothing outside its own processes. Exits 0 only if every
    submission gets full marks.
    """
    from .grading import report
    from .grading.course import CourseError
    from .grading.course import load as load_course
    from .grading.runner import default_jobs, grade_many, merge_specs
    from .grading.suites import ASSIGNMENTS

    if course:
        try:
            chosen = load_course(course)
        except CourseError as e:
            raise fail(str(e)) from None
        if assignment and assignment not in (chosen.name, *ASSIGNMENTS):
            raise fail(f"no assignment {assignment!r} (available: {', '.join(ASSIGNMENTS)})")
    elif assignment not in ASSIGNMENTS:
        if not assignment:
            raise fail("say which suite grades: --assignment NAME or --course COURSE.toml")
        raise fail(f"no assignment {assignment!r} (available: {', '.join(ASSIGNMENTS)})")
    else:
        chosen = ASSIGNMENTS[assignment]
    if fmt not in GRADE_FORMATS:
        raise fail(f"--format must be one of {', '.join(GRADE_FORMATS)}")
    from .grading.model import PARTS

    if part not in PARTS:
        raise fail(f"--part must be one of {', '.join(PARTS)}, not {part!r}")
    if part == "module" and not chosen.module_scenarios:
        raise fail(f"{chosen.name} has no kernel module to grade (--part module)")
    for path in submissions:
        if not os.path.exists(path):
            raise fail(f"{path}: no such folder or zip file")
    if fmt in ("gradescope", "github") and len(submissions) != 1:
        # checked before grading: these formats describe one submission
        where = "Gradescope runs one per job" if fmt == "gradescope" else "one per repository"
        raise fail(f"--format {fmt} grades one submission ({where}); got {len(submissions)}")
    specs = list(device or [])
    try:
        from .devices import build_devices

        build_devices(merge_specs(chosen.devices, specs), builtins=False)
    except ValueError as e:
        raise fail(str(e)) from None
    if not no_contain:
        from .grading.contain import GRADE_HINT, unavailable

        if why := unavailable():
            raise fail(f"{why}: {GRADE_HINT}")
    results = _grade_with_progress(
        submissions, chosen, specs, jobs or default_jobs(), grade_many, not no_contain, part
    )
    if fmt == "gradescope":
        rendered = report.gradescope(results[0])
    elif fmt == "github":
        rendered = report.github(results[0])
    elif fmt == "junit":
        rendered = report.junit(results)
    else:
        rendered = "\n\n".join(report.text(r) for r in results)
    try:
        if out:
            with open(out, "w") as f:
                f.write(rendered + "\n")
        else:
            typer.echo(rendered)
        if len(results) > 1:
            _summary(results, csv_out or (f"{out}.csv" if out else "scores.csv"))
    except OSError as e:
        raise fail(f"{e.filename}: {e.strerror}", 1) from None
    raise typer.Exit(0 if all(r.full_marks for r in results) else 1)


@app.command("grade-worker", hidden=True)
def grade_worker(
    submission: str,
    assignment: str,
    device: Annotated[list[str] | None, typer.Option("--device", "-d")] = None,
    course: Annotated[str | None, typer.Option("--course")] = None,
    no_contain: Annotated[bool, typer.Option("--no-contain")] = False,
    part: Annotated[str, typer.Option("--part")] = "both",
) -> None:
    """Grade one submission and print its result as JSON (used by `grade`)."""
    from .grading.contain import die_with_parent
    from .grading.course import load as load_course
    from .grading.runner import grade_submission
    from .grading.suites import ASSIGNMENTS

    die_with_parent()  # a killed grader takes its workers (and their sandboxes) along
    chosen = load_course(course) if course else ASSIGNMENTS[assignment]
    result = grade_submission(submission, chosen, device or [], not no_contain, part)
    typer.echo(json.dumps(result.to_dict()))


def _grade_with_progress(
    submissions: list[str],
    assignment: Any,
    specs: list[str],
    jobs: int,
    grade_many: Any,
    contain: bool = True,
    part: str = "both",
) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]grading[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=len(submissions) == 1 or not console.is_terminal,
    ) as progress:
        task = progress.add_task(assignment.name, total=len(submissions))

        def done(result: Any) -> None:
            progress.advance(task)
            if not console.is_terminal and len(submissions) > 1:
                console.print(f"graded {result.submission}: {result.score:g}/{result.max_score:g}")

        return grade_many(submissions, assignment, specs, jobs, done, contain, part)


def _summary(results: Any, csv_path: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from .grading import report

    table = Table(title="summary")
    for col in ("submission", "score", "failed scenarios"):
        table.add_column(col)
    for r in results:
        failed = ", ".join(s.name for s in r.scenarios if not s.passed) or (
            "-" if not r.error else r.error
        )
        table.add_row(r.submission, f"{r.score:g}/{r.max_score:g}", failed)
    Console(stderr=True).print(table)
    with open(csv_path, "w") as f:
        f.write(report.scores_csv(results))
    typer.echo(f"scores of {len(results)} submissions (CSV): {os.path.abspath(csv_path)}", err=True)


def _connect(namespace: str, start: bool = False) -> Any:
    from .namespace import NamespaceError, connect

    try:
        return connect(namespace, start=start)
    except NamespaceError as e:
        raise fail(str(e), 1) from None


def _request(namespace: str, op: str, start: bool = False, **fields: Any) -> dict[str, Any]:
    from .namespace import NamespaceError

    conn = _connect(namespace, start)
    try:
        reply: dict[str, Any] = conn.request(op, **fields)
        return reply
    except NamespaceError as e:
        raise fail(f"{op}: {e}", 1) from None
    finally:
        conn.close()


@app.command(hidden=True)
def daemon(
    namespace: NamespaceOpt = "default",
    device: Annotated[list[str] | None, typer.Option("--device", "-d")] = None,
) -> None:
    """Serve a namespace (started by `run` when needed)."""
    from .daemon import run_daemon

    raise typer.Exit(run_daemon(namespace, device or []))


@app.command()
def status(
    namespace: NamespaceOpt = "default",
    as_json: Annotated[
        bool, typer.Option("--json", help="machine-readable (docs/namespaces.md)")
    ] = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="refresh live until Ctrl-C")] = False,
) -> None:
    """Show every device, its open files and holders, queues, slots and blocked callers."""
    from .status import render_status, watch_status

    if as_json:
        typer.echo(json.dumps(_request(namespace, "status")["status"], indent=2))
        return
    if watch:
        watch_status(lambda: _request(namespace, "status")["status"])
        return
    render_status(_request(namespace, "status")["status"])


@app.command()
def stop(namespace: NamespaceOpt = "default") -> None:
    """End a namespace: its programs get SIGTERM (SIGKILL after 2 s), its devices go."""
    from .namespace import NamespaceError, try_connect

    try:
        conn = try_connect(namespace)
    except NamespaceError as e:
        raise fail(str(e), 1) from None
    if conn is None:  # nothing to stop: as `systemctl stop` of a stopped unit, success
        typer.echo(f"namespace {namespace} is not running")
        return
    try:
        reply = conn.request("stop")
    except NamespaceError as e:
        raise fail(f"stop: {e}", 1) from None
    finally:
        conn.close()
    typer.echo(f"namespace {namespace} stopped ({reply['ended']} program(s) ended)")


@app.command()
def insmod(
    device: Annotated[
        str, typer.Argument(help="built-in name, package.module:Class or file.py:Class")
    ],
    params: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE parameters")] = None,
    namespace: NamespaceOpt = "default",
) -> None:
    """Load a device into a namespace (starting it if needed), with module parameters.

    Every namespace starts with the built-in devices at their defaults: insmod of
    a built-in with other parameters replaces it if it is idle (no open file, no
    state), and is refused, saying why, while it is busy."""
    from .devices import absolute_spec, build_devices
    from .namespace import NamespaceError, try_connect

    spec = absolute_spec(",".join([device, *(params or [])]))
    try:
        build_devices([spec], builtins=False)  # a bad spec: refused before starting anything
    except ValueError as e:
        raise fail(str(e), 1) from None
    try:
        was_running = try_connect(namespace)
    except NamespaceError as e:
        raise fail(str(e), 1) from None
    if was_running is not None:
        was_running.close()
    conn = _connect(namespace, start=True)
    try:
        reply = conn.request("insmod", spec=spec)
    except NamespaceError as e:
        if was_running is None:  # we started it for this: leave nothing behind
            with contextlib.suppress(NamespaceError):
                conn.request("stop")
        raise fail(f"insmod: {e}", 1) from None
    finally:
        conn.close()
    action = reply.get("action", "loaded")
    if action == "already loaded":
        action = "already loaded with these parameters"
    typer.echo(f"{reply['name']}: {action} (major {reply['major']})")


@app.command()
def rmmod(
    device: Annotated[str, typer.Argument(help="the device's name")],
    namespace: NamespaceOpt = "default",
) -> None:
    """Unload a device; refused (EBUSY) while any of its files is open."""
    _request(namespace, "rmmod", name=device)
    typer.echo(f"{device}: unloaded")


@app.command()
def lsmod(namespace: NamespaceOpt = "default") -> None:
    """List the devices loaded in a namespace."""
    modules = _request(namespace, "lsmod")["modules"]
    typer.echo(f"{'Module':<16}{'Major':>6}  Used by")
    for m in modules:
        typer.echo(f"{m['name']:<16}{m['major']:>6}  {m['used_by']}")
    if not modules:
        typer.echo("(no device loaded)")


@app.command()
def mknod(
    path: Annotated[str, typer.Argument(help="the node to make")],
    kind: Annotated[str, typer.Argument(help="c (character device) or b (block device)")],
    major: Annotated[int, typer.Argument(help="the major number")],
    minor: Annotated[int, typer.Argument(help="the minor number")],
    namespace: NamespaceOpt = "default",
) -> None:
    """Make a device node in a namespace (starting it if needed), like mknod(1).

    The node is virtual: nothing is made on the host, and a host device node
    already at PATH is shadowed for traced programs. A major no loaded driver
    has opens the host's own device of that number (1 3: /dev/null), else ENXIO."""
    if kind not in ("c", "b"):
        raise fail("the node type must be c (character device) or b (block device)")
    reply = _request(namespace, "mknod", start=True, path=path, major=major, minor=minor, kind=kind)
    device = reply["device"] or "no driver (opening it gives ENXIO)"
    typer.echo(f"{reply['path']}: {device} {major}:{minor}")


@app.command()
def dmesg(
    namespace: NamespaceOpt = "default",
    follow: Annotated[bool, typer.Option("--follow", "-f", help="wait for new lines")] = False,
) -> None:
    """The devices' log lines (their printk), with timestamps."""
    import datetime

    from .namespace import NamespaceError

    def show(when: float, device: str, line: str) -> None:
        stamp = datetime.datetime.fromtimestamp(when).strftime("%H:%M:%S.%f")[:-3]
        typer.echo(f"[{stamp}] {device}: {line}")

    conn = _connect(namespace)
    try:
        for entry in conn.request("dmesg", follow=follow)["lines"]:
            show(*entry)
        if follow:
            for message in conn.messages():
                if "dmesg" in message:
                    show(*message["dmesg"])
    except NamespaceError as e:
        raise fail(f"dmesg: {e}", 1) from None
    except KeyboardInterrupt:
        pass
    finally:
        conn.close()


_RUN_OPTIONS_WITH_VALUE = {
    "--device", "-d", "--module", "--namespace", "-n", "--trace-format", "--expr", "-e",
    "--pin-cpu",
}  # fmt: skip


def split_trace_option(argv: list[str]) -> list[str]:
    """`run --trace=FILE` -> `run --trace-file FILE`, among run's own options only
    (a program's `--trace=x` after it is left alone)."""
    if "run" not in argv:
        return argv
    out = argv[: argv.index("run") + 1]
    rest = argv[len(out) :]
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--" or not arg.startswith("-"):
            break
        if arg.startswith("--trace="):
            out += ["--trace-file", arg.split("=", 1)[1]]
        else:
            out.append(arg)
            if arg in _RUN_OPTIONS_WITH_VALUE and i + 1 < len(rest):
                i += 1
                out.append(rest[i])
        i += 1
    return out + rest[i:]


def main() -> None:
    sys.argv[1:] = split_trace_option(sys.argv[1:])
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        os._exit(141)
