"""The `ptsandbox` command line (typer). Imports of the heavy parts stay lazy."""

from __future__ import annotations

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


def parse_device_spec(spec: str) -> tuple[str, dict[str, str]]:
    """`NAME[,KEY=VALUE...]` -> (NAME, {KEY: VALUE})."""
    name, *pairs = spec.split(",")
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--device {spec}: expected KEY=VALUE, got {pair!r}")
        params[key.strip()] = value
    if not name:
        raise ValueError(f"--device {spec}: missing the device name")
    return name, params


def build_devices(specs: list[str]) -> list[Any]:
    """The built-in devices at their defaults, with `--device` specs applied on top."""
    from .devices import BUILTIN, ParamError, UnknownDevice, resolve

    chosen: dict[str, tuple[type[Any], dict[str, str]]] = {
        name: (cls, {}) for name, cls in BUILTIN.items()
    }
    for spec in specs:
        name, params = parse_device_spec(spec)
        try:
            cls = resolve(name)
        except UnknownDevice as e:
            raise ValueError(str(e)) from None
        chosen[cls.name] = (cls, params)
    devices = []
    for cls, params in chosen.values():
        try:
            devices.append(cls(config=params))
        except ParamError as e:
            raise ValueError(f"{cls.name}: {e}") from None
    return devices


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
    trace: Annotated[
        bool,
        typer.Option("--trace", help="print each syscall that touched the sandbox, strace style"),
    ] = False,
    stats: Annotated[
        bool, typer.Option("--stats", help="at exit, print how many stops the supervisor handled")
    ] = False,
) -> None:
    """Run PROGRAM with the emulated devices at their paths.

    Exits with the program's status, or 128+N if signal N killed it. Use `--`
    before the program if its arguments look like options.
    """
    from .runner import run_program

    argv = [program, *(args or [])]
    try:
        devices = build_devices(device or [])
    except ValueError as e:
        raise fail(str(e)) from None
    code = run_program(argv, devices, trace=trace, stats=stats)
    raise typer.Exit(code)


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


@app.command()
def demo(
    assignment: Annotated[str, typer.Argument(help="which demo: chatroom")] = "chatroom",
) -> None:
    """Replay an assignment's flow with real compiled clients and show what each saw."""
    from .api import ExpectTimeout
    from .cc import CompileError

    if assignment != "chatroom":
        raise fail(f"no demo named {assignment!r} (available: chatroom)")
    from .demo import print_timeline, run_chatroom_demo

    typer.echo("compiling cprogs/joinchat.c with gcc and starting three clients ...", err=True)
    try:
        rows = run_chatroom_demo()
    except (CompileError, ExpectTimeout) as e:
        raise fail(str(e), 1) from None
    print_timeline(rows)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        os._exit(141)
