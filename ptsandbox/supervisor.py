"""One supervisor: the devices, the VFS, the tracer and the event loop that joins them.

The loop waits on one selector: the tracer's SIGCHLD signalfd (tracee stops)
and the supervisor's end of every virtual open file (end-of-file there means
the last tracee reference is gone: release). Nothing sleeps or polls.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import selectors
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import notify, seccomp
from .devices.base import DYNAMIC_MAJOR, Device
from .exitstatus import ExitStatus
from .loopgate import LoopGate
from .syscalls import Syscalls
from .sysnr import NAMES, NR
from .tracer import (
    ALLOW,
    ERESTARTNOINTR,
    Outcome,
    Park,
    SpawnSpec,
    Thread,
    Tracer,
    read_memory,
)
from .vfs import OpenFile, Vfs

log = logging.getLogger("ptsandbox.supervisor")
_NOTIFIED = frozenset(NR[name] for name in seccomp.NOTIFY_SYSCALLS)


class ProgramNotFound(Exception):
    """The program to run does not exist (exit 127) or cannot be executed (126)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def find_program(program: str) -> str:
    """The executable's path, resolved like a shell; raises ProgramNotFound."""
    if "/" in program:
        if not os.path.exists(program):
            raise ProgramNotFound(f"{program}: No such file or directory", 127)
        path = program
    else:
        found = shutil.which(program)
        if found is None:
            raise ProgramNotFound(f"{program}: command not found", 127)
        path = found
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise ProgramNotFound(f"{program}: Permission denied", 126)
    return path


def _load_params(device: Device) -> str:
    """The parameters worth a dmesg line (a profile, what differs from it)."""
    from .devices import defining_params

    shown = [f"{k}={v}" for k, v in defining_params(device).items()]
    return f"; {', '.join(shown)}" if shown else ""


def exit_code_of(status: int) -> int:
    """The shell's view of a wait status: the exit code, or 128+N for signal N."""
    return ExitStatus.from_wait(status).shell_code


@dataclass
class Program:
    pid: int
    argv: list[str]
    status: int | None = None
    started: float = field(default_factory=time.monotonic)
    parent: int = 0  # the process that started it (a `ptsandbox run`, or us)


def _parent_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def collision_warning(device: Device, nr: int, name: str) -> str:
    """What a device's syscall number shadows, and how calls are told apart."""
    rule = device.collision_rule(nr)
    how = f": {rule}" if rule else f"; traced programs get {name} instead"
    return f"{device.name}: syscall {nr} is {NAMES[nr]} on this kernel{how}"


def _ignoring_fd(callback: Callable[[], None]) -> Callable[[int], None]:
    return lambda _fd: callback()


class Supervisor:
    """Owns devices and traces programs; `run_loop` serves them until they end."""

    def __init__(
        self,
        devices: Iterable[Device] = (),
        process_limit: int | None = None,
        backend: str | None = None,
    ) -> None:
        self.devices: dict[str, Device] = {}
        self.vfs = Vfs()
        self.tracer = Tracer(self)
        self.syscalls = Syscalls(self.tracer, self.vfs, self.drain_releases)
        self.vfs.on_adopt = self._watch_file
        self.vfs.on_release = self._forget_file
        self.vfs.tracked_pids = lambda: {t.tgid for t in self.tracer.threads.values()}
        self.vfs.copy_fd = self._copy_fd
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.tracer.fileno(), selectors.EVENT_READ, None)
        # held by this thread but while the loop waits (listener threads serve then)
        self.gate = LoopGate()
        self.sel.register(self.gate.poke_fd, selectors.EVENT_READ, self._on_poke)
        self.tracer.hand_to_loop = self.gate.hand_to_loop
        # the supervisor's ends of virtual files, on an epoll of their own so that
        # checking for pending last-closes before a device call is one cheap poll
        self.ends = select.epoll()
        self.end_files: dict[int, OpenFile] = {}
        self.sel.register(self.ends.fileno(), selectors.EVENT_READ, self.ends)
        self.programs: dict[int, Program] = {}
        self.group_stop_hook: Callable[[Thread, int], None] = lambda t, sig: None
        self.dmesg: list[tuple[float, str, str]] = []
        self.warnings: list[str] = []  # for the user, once (e.g. a shadowed syscall)
        self.process_limit_hit = False  # a fork was refused by the process limit
        self.task_hooks: list[Callable[[Thread, Thread | None], None]] = []
        self.exit_hooks: list[Callable[[Thread, int], None]] = []
        self.printk_hooks: list[Callable[[float, str, str], None]] = []
        self.backend = self._choose_backend(backend)
        # the notify backend: seccomp listeners, each with a thread waiting in
        # the kernel where it has sync wake-up (loopgate.py), else on an epoll
        # of their own (its masks tell a pending call from a filter nobody uses)
        self.listeners: dict[int, notify.Listener] = {}
        self.listener_threads: dict[int, threading.Thread] = {}
        self.threaded_listeners = os.environ.get(THREADS_ENV, "1") != "0"
        self.notifications = 0  # device calls served from a notification (for stats)
        if self.backend == "notify":
            self.listener_ep = select.epoll()
            self.sel.register(self.listener_ep.fileno(), selectors.EVENT_READ, self._on_listeners)
            self.syscalls.on_listener = self._add_listener
            self.tracer.restart_withdrawn = True
        for d in devices:
            self.load(d)
        if process_limit is not None:
            self._limit_processes(process_limit)

    def _choose_backend(self, backend: str | None) -> str:
        """`backend`, else $PTSANDBOX_BACKEND, else ptrace; notify falls back to
        ptrace (with a warning) on a kernel without what it needs."""
        chosen = backend or os.environ.get(notify.BACKEND_ENV, "") or "ptrace"
        if chosen not in notify.BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(notify.BACKENDS)}, not {chosen!r}")
        if chosen == "notify":
            missing = notify.missing_notify_feature()
            if missing is not None:
                self.warnings.append(f"notify backend unavailable ({missing}): using ptrace")
                return "ptrace"
        return chosen

    # -- the notify backend ----------------------------------------------------------

    def _add_listener(self, fd: int) -> None:
        listener = self.listeners[fd] = notify.Listener(fd)
        if listener.sync_wake_up and self.threaded_listeners:
            thread = threading.Thread(
                target=self._serve_listener, args=(listener,), name=f"listener-{fd}", daemon=True
            )
            self.listener_threads[fd] = thread
            thread.start()
        else:
            self.listener_ep.register(fd, select.EPOLLIN)

    def _serve_listener(self, listener: notify.Listener) -> None:
        """A listener's own thread: wait in the kernel for each call and serve it
        under the gate, until every process of the filter is gone."""
        while True:
            try:
                n = listener.recv()
            except OSError as e:
                log.error("listener %d: %s", listener.fd, e)
                break
            if n is None:
                if listener.orphaned():
                    break
                continue  # withdrawn
            with self.gate.lock:
                if self.gate.closed:
                    with contextlib.suppress(OSError):
                        listener.answer(n.id, -errno.EIO)  # its program is being killed
                    continue
                try:
                    self._serve_call(listener, n)
                    self.vfs.sync_readiness()
                except Exception:  # this thread must go on serving whatever happens
                    log.exception("listener %d: serving a call failed", listener.fd)
                self.gate.served()
        self.gate.hand_to_loop(lambda: self._retire_listener(listener.fd))

    def _retire_listener(self, fd: int) -> None:
        thread = self.listener_threads.pop(fd, None)
        if thread is not None:
            thread.join()  # it has handed this over as its last act
        listener = self.listeners.pop(fd, None)
        if listener is not None:
            listener.close()

    def _on_poke(self, _fd: int) -> None:
        self.gate.drain_pokes()

    def _on_listeners(self, _fd: int) -> None:
        # Answering wakes the caller on this CPU (sync wake-up), and it often
        # makes its next device call before we look again: serve what is ready
        # at once, a bounded number of rounds, before the main loop's other work.
        for _round in range(_BACK_TO_BACK):
            ready = self.listener_ep.poll(0)
            if not ready:
                return
            for fd, events in ready:
                listener = self.listeners.get(fd)
                if listener is None:
                    continue
                if events & select.EPOLLIN:
                    self._serve_notification(listener)
                elif events & (select.EPOLLHUP | select.EPOLLERR):
                    # every process of the filter is gone
                    self.listener_ep.unregister(fd)
                    del self.listeners[fd]
                    listener.close()

    def _serve_notification(self, listener: notify.Listener) -> None:
        n = listener.recv()
        if n is None:
            return  # withdrawn: its caller was signalled or killed first
        self._serve_call(listener, n)

    def _serve_call(self, listener: notify.Listener, n: notify.Notification) -> None:
        if n.pid not in self.tracer.threads and not listener.valid(n.id):
            # a thread not met yet that died, and was reaped, while its call waited
            # for the loop to go idle: nothing to serve, nobody to remember
            return
        self.notifications += 1
        t = self.tracer.thread_of(n.pid)
        self.tracer.forget_notified_park(t)
        self.syscalls.notifying = True
        t.own_restart = False  # its last call is over
        try:
            outcome = self.on_syscall(t, n.nr, n.args)
            if outcome is ALLOW:
                # the kernel runs it (a pushed read may sleep): a signal's EINTR
                # or restart is then the kernel's own choice
                t.own_restart = True
                listener.allow(n.id)
                return
            if isinstance(outcome, int):
                listener.answer(n.id, outcome)
                return
            if self.gate.in_loop_thread():
                self._answer_job(listener, n, t, outcome)
            else:  # parking takes ptrace, the loop thread's: the call is held till then
                self.gate.hand_to_loop(lambda: self._answer_job(listener, n, t, outcome))
        except Exception:
            # a bug in a handler must not wedge the caller or the supervisor
            log.exception("serving a notified call %d of tid %d failed", n.nr, n.pid)
            with contextlib.suppress(OSError):  # answered already, or gone
                listener.answer(n.id, -errno.EIO)
        finally:
            self.syscalls.notifying = False

    def _answer_job(
        self, listener: notify.Listener, n: notify.Notification, t: Thread, job: Any
    ) -> None:
        """A handler's job from a notified call: only a Park (the call must sleep)
        can be carried out, by handing the thread to ptrace."""
        try:
            action = next(job)
        except StopIteration as stop:
            listener.answer(n.id, int(stop.value or 0))
            return
        job.close()
        if not isinstance(action, Park):
            log.error("a notified call %d of tid %d needs the tracee to run calls", n.nr, n.pid)
            self.syscalls.unpark(t)
            listener.answer(n.id, -errno.EIO)
            return
        if self.tracer.park_notified(t, action):
            # no signal can end the killable wait; the stop comes after this answer
            listener.answer(n.id, -ERESTARTNOINTR)
        else:
            self.syscalls.unpark(t)
            listener.answer(n.id, -errno.EINTR)  # it is dying

    # -- devices -------------------------------------------------------------------

    def load(self, device: Device) -> None:
        if device.name in self.devices:
            raise ValueError(f"device {device.name} is already loaded")

        def printk(line: str, name: str = device.name) -> None:
            self._printk(name, line)

        device.log = printk
        if device.major_number == DYNAMIC_MAJOR:
            device.assigned_major = self._free_major()
        for spec in device.nodes():
            self.vfs.add_node(spec.path, device, spec.minor, spec.mode)
        if device.major_number:
            self.syscalls.drivers_by_major[device.major_number] = device
        for nr, handler in device.syscalls().items():
            name = getattr(handler, "__name__", f"syscall_{nr}")
            native = None
            if nr in NAMES:
                self.warnings.append(collision_warning(device, nr, name))

                def native(ctx: Any, args: tuple[int, ...], nr: int = nr) -> bool:
                    return device.native_call(nr, ctx, args)

            self.syscalls.extra[nr] = self.syscalls.device_syscall(
                name, handler, native, device.name
            )
        self.devices[device.name] = device
        for fd, callback in device.event_fds().items():
            self.add_reader(fd, _ignoring_fd(callback))
        self._printk(device.name, f"loaded (major {device.major_number}{_load_params(device)})")

    def _printk(self, name: str, line: str) -> None:
        when = time.time()
        self.dmesg.append((when, name, line))
        del self.dmesg[:-10000]
        log.debug("%s: %s", name, line)
        for hook in self.printk_hooks:
            hook(when, name, line)

    def _limit_processes(self, limit: int) -> None:
        """Refuse a new process beyond `limit` live traced ones with EAGAIN, at the
        fork itself (RLIMIT_NPROC does not bind root, and killing a growing tree
        races its forks). Threads are not counted."""
        clone_thread = 0x10000

        def guard(thread: Thread, args: tuple[int, ...], nr: int) -> Any:
            if nr == NR["clone"] and args[0] & clone_thread:
                return ALLOW
            if nr == NR["clone3"]:
                try:
                    flags = int.from_bytes(read_memory(thread.tid, args[0], 8), "little")
                except OSError:
                    return ALLOW  # the kernel answers EFAULT
                if flags & clone_thread:
                    return ALLOW
            if len({t.tgid for t in self.tracer.threads.values()}) >= limit:
                self.process_limit_hit = True
                return -errno.EAGAIN
            return ALLOW

        def guard_for(nr: int) -> Callable[[Thread, tuple[int, ...]], Any]:
            return lambda t, a: guard(t, a, nr)

        for name in ("fork", "vfork", "clone", "clone3"):
            self.syscalls.extra[NR[name]] = guard_for(NR[name])

    def unload(self, device: Device) -> None:
        """rmmod: the caller has checked that no file of it is open."""
        device.exit()  # may refuse (EBUSY), before anything is undone
        for fd in device.event_fds():
            self.remove_reader(fd)
        self.vfs.remove_device(device)
        if self.syscalls.drivers_by_major.get(device.major_number) is device:
            del self.syscalls.drivers_by_major[device.major_number]
        for nr in device.syscalls():
            self.syscalls.extra.pop(nr, None)
        del self.devices[device.name]
        self._printk(device.name, "unloaded")

    def _free_major(self) -> int:
        """The kernel's dynamic majors: 254 down to 234, then 511 down to 384."""
        used = {d.major_number for d in self.devices.values()}
        for major in [*range(254, 233, -1), *range(511, 383, -1)]:
            if major not in used:
                return int(major)
        raise ValueError("no free major number left (Device or resource busy)")

    def replace(self, old: Device, new: Device) -> None:
        """insmod of an idle device with other parameters: unload it, load `new`.
        Nodes made by mknod for the old driver stay, if the major is the same."""
        made = {spec.path for spec in old.nodes()}
        kept = [
            (path, node.minor, node.mode)
            for path, node in self.vfs.nodes.items()
            if node.device is old and path not in made
        ]
        self.unload(old)
        try:
            self.load(new)
        except (ValueError, FileExistsError):
            self.load(old)
            raise
        if new.major_number == old.major_number:
            for path, minor, mode in kept:
                if path not in self.vfs.nodes:
                    self.vfs.add_node(path, new, minor, mode)

    def extra_syscalls(self) -> list[int]:
        return sorted(self.syscalls.extra)

    # -- programs ------------------------------------------------------------------

    def spawn(self, argv: list[str], **kwargs: Any) -> int:
        executable = find_program(argv[0])
        spec = SpawnSpec(
            argv=argv,
            executable=executable,
            filter_program=seccomp.base_filter(self.extra_syscalls()),
            **kwargs,
        )
        pid = self.tracer.spawn(spec)
        self.register_program(pid, argv)
        return pid

    def register_program(self, pid: int, argv: list[str]) -> None:
        """A program whose exit status we keep (spawned here, or attached)."""
        self.programs[pid] = Program(pid, argv, parent=_parent_of(pid))
        self._protect_parents()

    def _protect_parents(self) -> None:
        # a program must not stop the `ptsandbox run` that waits for it (ptrace)
        self.syscalls.protected_pids = {
            p.parent for p in self.programs.values() if p.status is None and p.parent > 1
        }

    def running(self) -> bool:
        return bool(self.tracer.threads)

    def run_loop(
        self, until: Callable[[], bool] | None = None, timeout: float | None = None
    ) -> bool:
        """Serve tracees until `until()` is true or no tracee is left (or `timeout`).

        Returns True if the condition was met (or every tracee ended).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        done = until or (lambda: not self.running())
        while not done():
            if not self.running() and until is not None and not self.vfs.files:
                return done()
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if wait == 0.0:
                return done()
            self.step(wait)
        return True

    def step(self, timeout: float | None, pokes: bool = False) -> None:
        """Wait for events (at most `timeout` s) and handle them. `pokes`: the caller
        waits on device state, so a call served by a listener thread ends the wait."""
        backlog = self.tracer.more_pending
        dispatched = False
        registered = self.sel.get_map()
        with self.gate.waiting(pokes):
            ready = self.sel.select(0 if backlog else timeout)
        for key, _ in ready:
            # an earlier callback of this batch may have removed (and closed) this fd,
            # and its number may even be open again for something else: skip stale keys
            if registered.get(key.fd) is not key:
                continue
            if key.data is None:
                self.tracer.dispatch()
                dispatched = True
            elif key.data is self.ends:
                self.drain_releases()
            else:
                key.data(key.fd)
        if backlog and not dispatched:
            self.tracer.dispatch()
        self.vfs.sync_readiness()

    def add_reader(self, fd: int, callback: Callable[[int], None]) -> None:
        """Call `callback(fd)` from the loop whenever `fd` is readable."""
        self.sel.register(fd, selectors.EVENT_READ, callback)

    def add_writer(self, fd: int, callback: Callable[[int], None]) -> None:
        """Call `callback(fd)` from the loop whenever `fd` is writable."""
        self.sel.register(fd, selectors.EVENT_WRITE, callback)

    def remove_reader(self, fd: int) -> None:
        """Stop watching `fd` (added by add_reader or add_writer)."""
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(fd)

    def drain_releases(self) -> None:
        """Process pending last-closes now, so an open or write sees them (they are async)."""
        for fd, _ in self.ends.poll(0):
            f = self.end_files.get(fd)
            if f is not None:
                self._check_hangup(f)

    def _check_hangup(self, f: OpenFile) -> None:
        if not f.released and self.vfs.hung_up(f):
            self.vfs.release(f)

    def _watch_file(self, f: OpenFile) -> None:
        fd = f.end.fileno()
        self.end_files[fd] = f
        self.ends.register(fd, select.EPOLLIN)

    def _forget_file(self, f: OpenFile) -> None:
        fd = f.end.fileno()
        if self.end_files.pop(fd, None) is not None:
            self.ends.unregister(fd)
        self.syscalls.on_release(f)

    def _copy_fd(self, tid: int, fd: int) -> int:
        t = self.tracer.threads.get(tid)
        if t is None:
            raise OSError(errno.ESRCH, f"{tid} is not traced")
        return self.tracer.copy_fd(t, fd)

    def kill_all(self) -> None:
        self.tracer.kill_all()

    def close(self) -> None:
        """Kill every tracee (including ones not met yet) and release everything."""
        self.gate.close()
        self.kill_all()
        if not self.tracer.reap_all(timeout=10):
            log.warning("some traced processes did not die within 10s")
        with self.gate.opened():  # their filters are gone: the threads end
            for thread in list(self.listener_threads.values()):
                thread.join(timeout=5)
        self.gate.run_handed()
        for fd, thread in self.listener_threads.items():
            # still in the kernel: its fd must stay open (never reused under it)
            log.warning("listener thread %s did not end", thread.name)
            self.listeners.pop(fd, None)
        self.drain_releases()
        self.vfs.close()
        for device in list(self.devices.values()):
            try:
                device.exit()  # a hosted module's exit and leak scan
            except Exception as e:  # a driver refusing at the end changes nothing now
                log.warning("%s: exit at close: %s", device.name, e)
        for listener in self.listeners.values():
            listener.close()
        self.listeners.clear()
        if self.backend == "notify":
            self.listener_ep.close()
        self.sel.close()
        self.ends.close()
        if not self.listener_threads:
            # a listener thread still in the kernel would poke it when it ends:
            # the number must not be some other file's by then
            self.gate.release_fd()
        self.tracer.close()

    # -- TraceHandler ------------------------------------------------------------

    def on_syscall(self, thread: Thread, nr: int, args: tuple[int, ...]) -> Outcome:
        return self.syscalls.handle(thread, nr, args)

    def on_unpark(self, thread: Thread) -> None:
        self.syscalls.unpark(thread)

    def on_signalled(self, thread: Thread) -> int | None:
        return self.syscalls.signalled(thread)

    def on_new_task(self, thread: Thread, parent: Thread | None) -> None:
        self.syscalls.on_new_task(thread, parent)
        for hook in self.task_hooks:
            hook(thread, parent)

    def on_exec(self, thread: Thread) -> None:
        self.syscalls.on_exec(thread)

    def on_exit(self, thread: Thread, status: int) -> None:
        self.syscalls.on_exit(thread, status)
        for device in self.devices.values():
            device.task_exit(thread.tid, thread.tgid)
        program = self.programs.get(thread.tid)
        if program is not None and program.status is None:
            program.status = status
            self._protect_parents()
        for hook in self.exit_hooks:
            hook(thread, status)

    def on_withdrawn(self, thread: Thread, nr: int, args: tuple[int, ...]) -> bool:
        """A call a signal withdrew from its notification: was it a device call
        (answered without sleeping, or sleeping on ptrace: never EINTR there)?"""
        return nr in _NOTIFIED and self.syscalls._file(thread, args[0]) is not None

    def on_group_stop(self, thread: Thread, sig: int) -> None:
        self.group_stop_hook(thread, sig)

    # -- inspection ------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return {
            "stops": self.tracer.stops,
            "notifications": self.notifications,
            "backend": self.backend,
            "by_syscall": dict(self.syscalls.counts.most_common()),
        }

    def pushed_sleepers(self) -> list[tuple[Thread, OpenFile]]:
        """Threads asleep in the kernel in a read of a pushed file (no supervisor
        work marks them: /proc tells the call, its fd and where the thread sleeps)."""
        if not any(f.inbox is not None for f in self.vfs.files.values()):
            return []
        found = []
        for t in list(self.tracer.threads.values()):
            try:
                with open(f"/proc/{t.tid}/syscall") as fh:
                    fields = fh.read().split()
                with open(f"/proc/{t.tid}/wchan") as fh:
                    wchan = fh.read()
            except OSError:
                continue
            if len(fields) < 2 or not fields[0].isdigit() or int(fields[0]) not in _READS:
                continue
            if "seccomp" in wchan or "ptrace" in wchan or "signal" in wchan:
                continue  # waiting for our answer, or stopped: not the read's own sleep
            f = self.vfs.file_of(t.tid, int(fields[1], 16))
            if f is not None and f.inbox is not None and _sleeping(t.tid):
                found.append((t, f))
        return found

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        blocked = [
            {
                "tid": p.thread.tid,
                "pid": p.thread.tgid,
                "comm": p.thread.comm(),
                "call": p.what,
                "waiting_s": round(now - p.since, 3),
            }
            for p in self.syscalls.parked.values()
        ]
        blocked += [
            {"tid": t.tid, "pid": t.tgid, "comm": t.comm(), "call": "read", "waiting_s": None}
            for t, _f in self.pushed_sleepers()
        ]
        return {
            "devices": {name: d.snapshot() for name, d in self.devices.items()},
            "open_files": self.vfs.describe(),
            "blocked": blocked,
        }


#: notification rounds served in one go before the loop's other sources are looked at
_BACK_TO_BACK = 8
#: "0": serve notifications from the loop's epoll even where a thread could wait
#: in the kernel with sync wake-up (to measure one against the other)
THREADS_ENV = "PTSANDBOX_NOTIFY_THREADS"
_READS = {NR["read"], NR["readv"], NR["preadv2"]}  # the calls a pushed read may sleep in


def _sleeping(tid: int) -> bool:
    try:
        with open(f"/proc/{tid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] == "S"
    except (OSError, IndexError):
        return False
