"""`ptsandbox run`: one program in the user's terminal under a private supervisor.

Like a shell running a foreground job: Ctrl-C and Ctrl-\\ reach the program,
not the supervisor; when the program stops (Ctrl-Z) the supervisor stops too,
so the shell sees the job stopped, and `fg` continues both. The supervisor
serves the program and every process it starts until all have ended (like
`strace -f`), then exits with the program's status.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from .supervisor import ProgramNotFound, Supervisor, exit_code_of
from .tracer import Thread


def run_program(argv: list[str], devices: list[Any], trace: bool, stats: bool) -> int:
    sup = Supervisor(devices)
    for warning in sup.warnings:
        print(f"ptsandbox: warning: {warning}", file=sys.stderr)
    if trace:
        sup.syscalls.trace = lambda text: print(text, file=sys.stderr, flush=True)
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGQUIT)}
    try:
        try:
            pid = sup.spawn(argv)
        except ProgramNotFound as e:
            print(f"ptsandbox: {e}", file=sys.stderr)
            return e.exit_code
        except OSError as e:
            print(f"ptsandbox: {argv[0]}: {e.strerror}", file=sys.stderr)
            return 126

        def on_group_stop(thread: Thread, sig: int) -> None:
            # the program stopped for job control: stop with it so the shell sees it
            if thread.tgid == pid and os.isatty(0):
                os.kill(os.getpid(), signal.SIGSTOP)

        sup.group_stop_hook = on_group_stop
        sup.run_loop()
        status = sup.programs[pid].status
        code = exit_code_of(status) if status is not None else 1
        if stats:
            _print_stats(sup.stats())
        return code
    finally:
        sup.close()
        for s, handler in old.items():
            signal.signal(s, handler)


def _print_stats(data: dict[str, Any]) -> None:
    print(f"ptsandbox: {data['stops']} supervisor stops", file=sys.stderr)
    for name, count in data["by_syscall"].items():
        print(f"  {name:<20} {count}", file=sys.stderr)
    if data["foreign_calls_refused"]:
        print(f"  (i386/x32 calls refused: {data['foreign_calls_refused']})", file=sys.stderr)
