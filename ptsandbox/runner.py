"""`ptsandbox run`: one program in the user's terminal under a private supervisor.

Like a shell running a foreground job: Ctrl-C and Ctrl-\\ reach the program,
not the supervisor; when the program stops (Ctrl-Z) the supervisor stops too,
so the shell sees the job stopped, and `fg` continues both. The supervisor
serves the program and every process it starts until all have ended (like
`strace -f`), then exits with the program's status.

The supervisor stops only *after* the program has. A stop signal that one
thread of a traced program takes waits for the supervisor to deliver it; a
supervisor that stopped first (its own Ctrl-Z) left the program's other
threads running in the background, one of them still in a read of the
terminal that then took the shell's next line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .supervisor import ProgramNotFound, Supervisor, exit_code_of, find_program
from .tracer import Thread, TracerError

Sink = Callable[[dict[str, Any]], None]  # receives trace records (trace_format.to_wire)


def run_program(
    argv: list[str],
    devices: list[Any],
    sink: Sink | None,
    stats: bool,
    data: bool = False,
    setup: Callable[[Supervisor], None] | None = None,
) -> int:
    """`run --private`: a supervisor of our own, in this process. `sink` gets
    every trace record (with the bytes moved if `data`); `setup` may add to the
    supervisor before the program starts (replay's timers)."""
    from .trace_format import to_wire

    sup = Supervisor(devices)
    for warning in sup.warnings:
        print(f"ptsandbox: warning: {warning}", file=sys.stderr)
    if setup is not None:
        setup(sup)
    if sink is not None:
        out = sink

        def emit(thread: Thread, event: Any) -> None:
            out(to_wire(event, data))

        sup.syscalls.trace = emit
        sup.vfs.pushed_reads = False  # every read is recorded
    interactive = os.isatty(0)
    old = _leave_signals_to_the_program(interactive)
    try:
        try:
            pid = sup.spawn(argv)
        except ProgramNotFound as e:
            print(f"ptsandbox: {e}", file=sys.stderr)
            return e.exit_code
        except TracerError as e:
            print(f"ptsandbox: {e}", file=sys.stderr)
            return 126
        except OSError as e:
            print(f"ptsandbox: {argv[0]}: {e.strerror}", file=sys.stderr)
            return 126

        def on_group_stop(thread: Thread, sig: int) -> None:
            # the program stopped for job control: once all its threads have, stop
            # with it by the same signal, so the shell sees the job stopped and
            # says why ("Stopped", "Stopped (tty input)"), as a shell's own child
            # is reported when its group stop is complete
            if thread.tgid != pid or not interactive:
                return
            threads = [t for t in sup.tracer.threads.values() if t.tgid == pid]
            if not all(t.group_stopped for t in threads):
                return
            _stop_self(sig)
            # continued: the SIGCONT ended the program's stop too. A thread's stop
            # reported late is of that ended stop, and must not stop us again
            for t in threads:
                t.group_stopped = False

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


#: stop signals the supervisor of an interactive run leaves to its program
_JOB_STOPS = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)


def _leave_signals_to_the_program(interactive: bool) -> dict[int, Any]:
    """Ignore what the terminal sends the job for the program: Ctrl-C and Ctrl-\\
    always; in a terminal also the stop signals, as we stop after the program
    does (a stop signal we inherited ignored, a background job's, stays so).
    Returns the former handlers."""
    ignored = [signal.SIGINT, signal.SIGQUIT]
    if interactive:
        ignored += [s for s in _JOB_STOPS if signal.getsignal(s) == signal.SIG_DFL]
    return {s: signal.signal(s, signal.SIG_IGN) for s in ignored}


def _stop_self(sig: int) -> None:
    """Stop this process by `sig` (as its default action would), and return
    when it is continued."""
    if sig not in _JOB_STOPS or signal.getsignal(sig) == signal.SIG_DFL:
        signal.raise_signal(sig if sig in _JOB_STOPS else signal.SIGSTOP)
        return
    was = signal.signal(sig, signal.SIG_DFL)
    try:
        signal.raise_signal(sig)  # raise() is for this thread: stopped before it returns
    finally:
        signal.signal(sig, was)


def _print_stats(data: dict[str, Any]) -> None:
    print(f"ptsandbox: {data['stops']} supervisor stops", file=sys.stderr)
    for name, count in data["by_syscall"].items():
        print(f"  {name:<20} {count}", file=sys.stderr)


def run_in_namespace(
    argv: list[str],
    namespace: str,
    device_specs: list[str],
    sink: Sink | None,
    stats: bool,
    data: bool = False,
) -> int:
    """Run the program in the user's terminal, traced by the namespace's supervisor.

    The program is our child, so the terminal, its process group, job control
    and the exit status are exactly a shell's; the supervisor attaches to it
    with PTRACE_SEIZE before it installs the filter and execs.
    """
    from . import seccomp
    from .devices import absolute_spec
    from .namespace import NamespaceError, connect
    from .tracer import SpawnSpec, fork_waiting

    try:
        executable = find_program(argv[0])
    except ProgramNotFound as e:
        print(f"ptsandbox: {e}", file=sys.stderr)
        return e.exit_code
    try:
        conn = connect(namespace)
        if device_specs:
            conn.request("ensure", specs=[absolute_spec(d) for d in device_specs])
    except NamespaceError as e:
        print(f"ptsandbox: {e}", file=sys.stderr)
        return 2
    spec = SpawnSpec(argv=argv, executable=executable, ptracer=conn.server_pid)
    pid, go_w, err_r = fork_waiting(spec)
    interactive = os.isatty(0)
    old = _leave_signals_to_the_program(interactive)
    try:
        if os.read(err_r, 1) != b"R":
            os.waitpid(pid, 0)
            print(f"ptsandbox: {argv[0]}: could not prepare the program", file=sys.stderr)
            return 126
        try:
            reply = conn.request("attach", pid=pid, argv=argv, trace=sink is not None, data=data)
        except NamespaceError as e:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print(f"ptsandbox: {e}", file=sys.stderr)
            return 2
        for warning in reply.get("warnings", []):
            print(f"ptsandbox: warning: {warning}", file=sys.stderr)
        program = seccomp.base_filter(reply["extra_syscalls"])
        os.write(go_w, struct.pack("<I", len(program)) + program)
        os.close(go_w)
        err = os.read(err_r, 4)
        # trace events (when asked for) and hosted modules' reports, until the end
        printer = threading.Thread(target=_print_traces, args=(conn, sink), daemon=True)
        printer.start()
        status = _wait_for(pid, follow_stops=interactive)
        # until the supervisor says the program ended (its reports come before that)
        printer.join(timeout=10 if sink is not None else 2)
        if err:
            code = struct.unpack("i", err)[0]
            print(f"ptsandbox: {argv[0]}: {os.strerror(code)}", file=sys.stderr)
            return 127 if code == errno.ENOENT else 126
        if stats:
            try:
                with _second_connection(namespace) as c2:
                    _print_stats(c2.request("stats", session=pid))
            except NamespaceError as e:
                print(f"ptsandbox: stats: {e}", file=sys.stderr)
        return exit_code_of(status)
    finally:
        os.close(err_r)
        for s, handler in old.items():
            signal.signal(s, handler)


def _wait_for(pid: int, follow_stops: bool) -> int:
    """The program's exit status. With `follow_stops`, we stop when it stops (the
    kernel tells its parent once its group stop is complete), as `run --private`
    does, so the shell's job is stopped only when the program is."""
    while True:
        try:
            _, status = os.waitpid(pid, os.WUNTRACED if follow_stops else 0)
        except InterruptedError:
            continue
        if not os.WIFSTOPPED(status):
            return status
        _stop_self(os.WSTOPSIG(status))


def _print_traces(conn: Any, sink: Sink | None) -> None:
    try:
        for message in conn.messages():
            if "exited" in message:
                return
            if "report" in message:  # a kernel module's bug report, as the kernel prints it
                print(message["report"], file=sys.stderr, flush=True)
                continue
            record = message.get("event")
            if record is not None and sink is not None:
                sink(record)
    except (OSError, ValueError):
        return


@contextlib.contextmanager
def _second_connection(namespace: str) -> Iterator[Any]:
    from .namespace import connect

    conn = connect(namespace, start=False)
    try:
        yield conn
    finally:
        conn.close()
