"""The `ptsandbox` command line (typer). Imports of the heavy parts stay lazy."""

from __future__ import annotations

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
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """One clear line on stderr and an exit code: never a traceback."""
    typer.echo(f"ptsandbox: {message}", err=True)
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
        str, typer.Option("--trace-format", help="text (strace style) or jsonl")
    ] = "text",
    stats: Annotated[
        bool, typer.Option("--stats", help="at exit, print how many stops the supervisor handled")
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
) -> None:
    """Run PROGRAM with the emulated devices at their paths.

    By default the program joins the shared namespace "default" (started in
    the background if needed), so `ptsandbox run ./joinchat P1` in three
    terminals is one chat room. It keeps your terminal: Ctrl-C, Ctrl-Z and
    `fg` work as without ptsandbox.

    Exits with the program's status, or 128+N if signal N killed it. Use `--`
    before the program if its arguments look like options.
    """
    from .devices import build_devices
    from .runner import run_in_namespace, run_program

    argv = [program, *(args or [])]
    if trace_format not in ("text", "jsonl"):
        raise fail(f"--trace-format must be text or jsonl, not {trace_format!r}")
    try:
        devices = build_devices(device or [])
    except ValueError as e:
        raise fail(str(e)) from None
    try:
        out = open_trace(trace_file if trace_file is not None else "-" if trace else None)
    except OSError as e:
        raise fail(f"--trace: {e.filename}: {e.strerror}") from None
    if pin_cpu is not None:
        if not private:
            raise fail("--pin-cpu needs --private (a namespace serves programs on any CPU)")
        try:
            os.sched_setaffinity(0, {pin_cpu})  # the program inherits it
        except (OSError, ValueError) as e:
            raise fail(f"--pin-cpu {pin_cpu}: {e}") from None
    if private:
        code = run_program(argv, devices, trace=out, trace_format=trace_format, stats=stats)
    else:
        code = run_in_namespace(argv, namespace, device or [], out, trace_format, stats)
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
    table.add_column("parameter")
    table.add_column("default")
    table.add_column("meaning")
    for name, cls in BUILTIN.items():
        for i, p in enumerate(cls.all_params()):
            bounds = f" [{p.min}..{p.max}]" if p.min is not None else ""
            choices = f" ({'|'.join(p.choices)})" if p.choices else ""
            table.add_row(
                name if i == 0 else "",
                str(cls.major) if i == 0 else "",
                p.name,
                str(p.default),
                p.help + bounds + choices,
            )
    Console().print(table)


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
    ],
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
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="submissions graded at once")] = 0,
    csv_out: Annotated[
        str | None,
        typer.Option(
            "--csv",
            help="with several submissions, write the scores table here "
            "(default: the report's name + .csv, e.g. junit.xml.csv; else scores.csv)",
        ),
    ] = None,
) -> None:
    """Grade students' C clients against the reference devices.

    Each submission is a folder or a zip with the clients, the student's header
    and usually a module source and a kbuild Makefile. The clients are built
    (with the Makefile if it has a target for them, else gcc); the module is
    not built: the reference device plays its part. Every scenario of the
    assignment runs in a fresh private sandbox, with its own time, CPU, memory,
    process and output limits. Exits 0 only if every submission gets full marks.
    """
    from .grading import report
    from .grading.runner import default_jobs, grade_many, merge_specs
    from .grading.suites import ASSIGNMENTS

    if assignment not in ASSIGNMENTS:
        raise fail(f"no assignment {assignment!r} (available: {', '.join(ASSIGNMENTS)})")
    if fmt not in GRADE_FORMATS:
        raise fail(f"--format must be one of {', '.join(GRADE_FORMATS)}")
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

        build_devices(merge_specs(ASSIGNMENTS[assignment].devices, specs), builtins=False)
    except ValueError as e:
        raise fail(str(e)) from None
    chosen = ASSIGNMENTS[assignment]
    results = _grade_with_progress(submissions, chosen, specs, jobs or default_jobs(), grade_many)
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
) -> None:
    """Grade one submission and print its result as JSON (used by `grade`)."""
    from .grading.runner import grade_submission
    from .grading.suites import ASSIGNMENTS

    result = grade_submission(submission, ASSIGNMENTS[assignment], device or [])
    typer.echo(json.dumps(result.to_dict()))


def _grade_with_progress(
    submissions: list[str], assignment: Any, specs: list[str], jobs: int, grade_many: Any
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

        return grade_many(submissions, assignment, specs, jobs, done)


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
        bool, typer.Option("--json", help="machine-readable (docs/status.md)")
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
    reply = _request(namespace, "stop")
    typer.echo(f"namespace {namespace} stopped ({reply['ended']} program(s) ended)")


@app.command()
def insmod(
    device: Annotated[
        str, typer.Argument(help="built-in name, package.module:Class or file.py:Class")
    ],
    params: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE parameters")] = None,
    namespace: NamespaceOpt = "default",
) -> None:
    """Load a device into a namespace (starting it if needed), with module parameters."""
    from .devices import absolute_spec

    spec = absolute_spec(",".join([device, *(params or [])]))
    reply = _request(namespace, "insmod", start=True, spec=spec)
    typer.echo(f"{reply['name']}: loaded (major {reply['major']})")


@app.command()
def rmmod(
    device: Annotated[str, typer.Argument(help="the device's name")],
    namespace: NamespaceOpt = "default",
) -> None:
    """Unload a device; refused (EBUSY) while any of its files is open."""
    _request(namespace, "rmmod", name=device)


@app.command()
def lsmod(namespace: NamespaceOpt = "default") -> None:
    """List the devices loaded in a namespace."""
    modules = _request(namespace, "lsmod")["modules"]
    typer.echo(f"{'Module':<16}{'Major':>6}  Used by")
    for m in modules:
        typer.echo(f"{m['name']:<16}{m['major']:>6}  {m['used_by']}")


@app.command()
def mknod(
    path: Annotated[str, typer.Argument(help="the node to make")],
    kind: Annotated[str, typer.Argument(help="c (character device)")],
    major: Annotated[int, typer.Argument(help="a loaded driver's major")],
    minor: Annotated[int, typer.Argument(help="the minor number")],
    namespace: NamespaceOpt = "default",
) -> None:
    """Make a device node in a namespace (starting it if needed), like mknod(1)."""
    if kind != "c":
        raise fail("only character devices (c) are emulated")
    reply = _request(namespace, "mknod", start=True, path=path, major=major, minor=minor)
    typer.echo(f"{reply['path']}: {reply['device']} {major}:{minor}")


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


_RUN_OPTIONS_WITH_VALUE = {"--device", "-d", "--namespace", "-n", "--trace-format"}


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
