"""A namespace's supervisor process: devices shared by every program run in it.

`ptsandbox run` forks the program in the user's own terminal, and asks this
process over the control socket to attach to it (PTRACE_SEIZE) before it
execs. Requests (one JSON object per line, see docs/namespaces.md):

  ping, attach, stats, status, lsmod, insmod, rmmod, ensure, mknod, dmesg, stop

Security: the socket lives in the user's 0700 runtime directory and every
connection's peer credentials must carry our uid; requests that change the
namespace (insmod, rmmod, ensure, mknod, stop) are refused from any process
this supervisor traces, so a sandboxed program cannot reconfigure its devices.

Lifetime: with no traced program, no connection and no state (a device
holding messages, a node made by mknod), the daemon exits after the idle
timeout. `stop` sends SIGTERM to every traced program, gives them two
seconds, then exits; anything left is killed by PTRACE_O_EXITKILL.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import socket
import stat
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .devices import (
    Device,
    ParamError,
    UnknownDevice,
    build_devices,
    defining_params,
    origin,
    parse_device_spec,
    resolve,
)
from .namespace import READY_FD_ENV, remove_files, socket_path
from .supervisor import Supervisor
from .syscalls import TraceEvent
from .trace_format import to_wire
from .tracer import PTRACE_FORBIDDEN, Thread
from .vfs import host_device_path, is_host_device_node

log = logging.getLogger("ptsandbox.daemon")

MUTATING = {"insmod", "rmmod", "ensure", "mknod", "stop"}


class RequestError(Exception):
    pass


@dataclass(eq=False)
class Client:
    sock: socket.socket
    pid: int
    uid: int
    buffer: bytes = b""
    session: int | None = None  # the pid of the program this connection runs
    trace: bool = False
    data: bool = False  # trace records carry the bytes moved (ptsandbox record)
    follow_dmesg: bool = False

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # gone: its hang-up is handled by the loop
            self.sock.sendall(json.dumps(message).encode() + b"\n")


@dataclass
class Session:
    root: int
    client: Client | None
    argv: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    stops: int = 0


class Daemon:
    def __init__(self, name: str, device_specs: list[str], idle_timeout: float) -> None:
        self.name = name
        self.idle_timeout = idle_timeout
        self.sup = Supervisor(build_devices(device_specs))
        self.started = time.time()
        self.clients: dict[int, Client] = {}
        self.sessions: dict[int, Session] = {}
        self.session_of: dict[int, int] = {}  # tgid -> session root
        self.stopping = False
        self.configured = False  # insmod changed the devices: keep them until `stop`
        self.sup.syscalls.trace = self._trace
        self.sup.vfs.records_reads = self._records_reads
        self.sup.syscalls.on_call = self._count
        self.sup.task_hooks.append(self._on_task)
        self.sup.exit_hooks.append(self._on_exit)
        self.sup.printk_hooks.append(self._on_printk)
        from .devices.kmodule import KernelModule

        KernelModule.report_sink = self._on_report  # a module's bug reports: to its run
        self.path = socket_path(name)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o177)
        try:
            self.listener.bind(str(self.path))
        finally:
            os.umask(old)
        self.path_ino = os.stat(self.path).st_ino  # the socket file's, to remove only ours
        self.listener.listen(64)
        self.sup.add_reader(self.listener.fileno(), self._accept)

    # -- loop ------------------------------------------------------------------

    def serve(self) -> None:
        idle_since = time.monotonic()
        try:
            while not self.stopping:
                self.sup.step(1.0)
                if self._busy():
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= self.idle_timeout:
                    log.info("idle for %.0fs: exiting", self.idle_timeout)
                    return
        finally:
            self.close()

    def _busy(self) -> bool:
        return bool(
            self.sup.running()
            or self.clients
            or self.sup.vfs.files
            or self.sup.vfs.nodes_changed
            or self.configured
            or any(d.holds_state() for d in self.sup.devices.values())
        )

    def close(self) -> None:
        self.sup.remove_reader(self.listener.fileno())
        self.listener.close()
        remove_files(self.name, self.path_ino)
        for c in list(self.clients.values()):
            self._drop(c)
        self.sup.close()

    # -- connections -------------------------------------------------------------

    def _accept(self, _fd: int) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        pid = int.from_bytes(creds[0:4], "little")
        uid = int.from_bytes(creds[4:8], "little")
        client = Client(sock, pid, uid)
        if uid != os.getuid():
            client.send({"ok": False, "error": "permission denied: not the namespace's owner"})
            sock.close()
            return
        sock.settimeout(5)
        self.clients[sock.fileno()] = client
        self.sup.add_reader(sock.fileno(), self._readable)

    def _drop(self, c: Client) -> None:
        self.sup.remove_reader(c.sock.fileno())
        self.clients.pop(c.sock.fileno(), None)
        if c.session is not None and c.session in self.sessions:
            self.sessions[c.session].client = None
        c.sock.close()

    def _readable(self, fd: int) -> None:
        c = self.clients[fd]
        try:
            data = c.sock.recv(65536)
        except (BlockingIOError, TimeoutError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(c)
            return
        c.buffer += data
        while b"\n" in c.buffer:
            line, c.buffer = c.buffer.split(b"\n", 1)
            try:
                request = json.loads(line)
                op = request.get("op", "")
                if op in MUTATING and self._is_traced(c.pid):
                    raise RequestError("permission denied: a sandboxed program cannot do that")
                handler = getattr(self, f"op_{op}", None)
                if handler is None:
                    raise RequestError(f"unknown request {op!r}")
                reply = handler(c, request)
                c.send({"ok": True, **reply})
            except RequestError as e:
                c.send({"ok": False, "error": str(e)})
            except (ValueError, KeyError, TypeError) as e:
                c.send({"ok": False, "error": f"bad request: {e}"})
            if op == "stop" and self.stopping:
                return

    def _records_reads(self, tgid: int) -> bool:
        """Is `tgid` in a session whose client wants a trace (then its reads are emulated)?"""
        session = self.sessions.get(self.session_of.get(tgid, -1))
        return session is not None and session.client is not None and session.client.trace

    def _is_traced(self, pid: int) -> bool:
        return any(t.tgid == pid for t in self.sup.tracer.threads.values())

    # -- sessions and traces -------------------------------------------------------

    def _on_task(self, thread: Thread, parent: Thread | None) -> None:
        if parent is not None and parent.tgid in self.session_of:
            self.session_of.setdefault(thread.tgid, self.session_of[parent.tgid])

    def _on_exit(self, thread: Thread, status: int) -> None:
        session = self.sessions.get(thread.tid)
        if session is not None and session.client is not None:
            # every trace line of the session's program went out before this
            session.client.send({"exited": status})

    def _count(self, thread: Thread, name: str) -> None:
        root = self.session_of.get(thread.tgid)
        if root is not None and root in self.sessions:
            s = self.sessions[root]
            s.stops += 1
            s.counts[name] += 1

    def _trace(self, thread: Thread, event: TraceEvent) -> None:
        root = self.session_of.get(thread.tgid)
        session = self.sessions.get(root) if root is not None else None
        if session is not None and session.client is not None and session.client.trace:
            session.client.send({"event": to_wire(event, session.client.data)})

    def _on_report(self, tgid: int, text: str) -> None:
        """A hosted module's report: to the stderr of the run whose program caused it."""
        session = self.sessions.get(self.session_of.get(tgid, -1))
        if session is not None and session.client is not None:
            session.client.send({"report": text})

    def _on_printk(self, when: float, device: str, line: str) -> None:
        for c in list(self.clients.values()):
            if c.follow_dmesg:
                c.send({"dmesg": [when, device, line]})

    # -- requests ------------------------------------------------------------------

    def op_ping(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid(), "namespace": self.name}

    def op_attach(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        pid = int(r["pid"])
        if _ppid(pid) != c.pid:
            raise RequestError(f"process {pid} is not a child of the requester")
        if pid not in self.sup.tracer.threads:
            try:
                self.sup.tracer.attach(pid)
            except OSError as e:
                if e.errno == errno.EPERM:
                    raise RequestError(PTRACE_FORBIDDEN) from None
                raise RequestError(f"cannot attach to {pid}: {e.strerror}") from None
        self.sup.register_program(pid, list(r.get("argv", [])))
        self.session_of[pid] = pid
        self.sessions[pid] = Session(pid, c, list(r.get("argv", [])))
        c.session = pid
        c.trace = bool(r.get("trace"))
        c.data = bool(r.get("data"))
        return {"extra_syscalls": self.sup.extra_syscalls(), "warnings": self.sup.warnings}

    def op_stats(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        s = self.sessions.get(int(r["session"]))
        if s is None:
            raise RequestError("no such session")
        return {"stops": s.stops, "by_syscall": dict(s.counts.most_common())}

    def op_status(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        return {"status": self.status()}

    def status(self) -> dict[str, Any]:
        snap = self.sup.snapshot()
        return {
            "schema": 1,
            "namespace": self.name,
            "pid": os.getpid(),
            "uptime_s": round(time.time() - self.started, 1),
            "programs": [
                {
                    "pid": p.pid,
                    "argv": p.argv,
                    "running": p.status is None,
                    "stopped": self._stopped(p.pid),
                }
                for p in self.sup.programs.values()
                if p.status is None
            ],
            "devices": {
                name: {
                    "major": d.major_number,
                    "params": _jsonable(d.config),
                    "nodes": sorted(
                        n for n, node in self.sup.vfs.nodes.items() if node.device is d
                    ),
                    "node_inodes": {
                        n: node.ino for n, node in self.sup.vfs.nodes.items() if node.device is d
                    },
                    "state": snap["devices"][name],
                }
                for name, d in self.sup.devices.items()
            },
            "open_files": snap["open_files"],
            "blocked": snap["blocked"],
        }

    def _stopped(self, pid: int) -> bool:
        """Every thread of the program is in a job-control stop (Ctrl-Z)."""
        threads = [t for t in self.sup.tracer.threads.values() if t.tgid == pid]
        return bool(threads) and all(t.group_stopped for t in threads)

    def op_lsmod(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        return {
            "modules": [
                {
                    "name": name,
                    "major": d.major_number,
                    "used_by": sum(1 for f in self.sup.vfs.files.values() if f.node.device is d),
                    "params": _jsonable(d.config),
                }
                for name, d in self.sup.devices.items()
            ]
        }

    def _device_from_spec(self, spec: str) -> Device:
        try:
            name, params = parse_device_spec(spec)
            cls = resolve(name)
            return cls(config=params)
        except (ValueError, UnknownDevice, ParamError) as e:
            raise RequestError(str(e)) from None

    def _busy_reason(self, device: Device) -> str | None:
        """Why a loaded device cannot be replaced now, or None when it is idle."""
        users = sum(1 for f in self.sup.vfs.files.values() if f.node.device is device)
        if users:
            return f"{users} open file(s)"
        if device.in_use():
            return "in use"
        if device.holds_state():
            return "it holds state (`ptsandbox status` shows it)"
        return None

    def _load_or_replace(self, wanted: Device, verb: str) -> str:
        """Load `wanted`; a loaded device of that name that is the same stays, an
        idle one with other parameters or class is replaced, a busy one refused."""
        loaded = self.sup.devices.get(wanted.name)
        try:
            if loaded is None:
                self.sup.load(wanted)
                return "loaded"
            if _same(loaded, wanted):
                return "already loaded"
            reason = self._busy_reason(loaded)
            if reason is not None:
                raise RequestError(
                    f"{wanted.name} is loaded in namespace {self.name} with other parameters "
                    f"({_difference(loaded, wanted)}) and is busy: {reason} (Device or resource "
                    f"busy); end the programs using it, `ptsandbox stop -n {self.name}` to drop "
                    f"its state, or {verb} in another namespace (--namespace NAME)"
                )
            self.sup.replace(loaded, wanted)
            return "replaced"
        except (ValueError, FileExistsError) as e:
            raise RequestError(str(e)) from None

    def op_insmod(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        device = self._device_from_spec(r["spec"])
        what = self._load_or_replace(device, "insmod")
        self.configured = self.configured or what != "already loaded"
        loaded = self.sup.devices[device.name]
        return {"name": device.name, "major": loaded.major_number, "action": what}

    def op_ensure(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        """Load what `run --device` asks for, replacing idle devices (as insmod)."""
        for spec in r.get("specs", []):
            self._load_or_replace(self._device_from_spec(spec), "run")
        return {}

    def op_rmmod(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        name = r["name"]
        device = self.sup.devices.get(name)
        if device is None:
            raise RequestError(f"{name} is not loaded (No such file or directory)")
        users = [f for f in self.sup.vfs.files.values() if f.node.device is device]
        if users or device.in_use():
            raise RequestError(
                f"{name} is in use by {len(users)} open file(s) (Device or resource busy)"
            )
        self.sup.unload(device)
        return {}

    def op_mknod(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        """As mknod(2) in the sandbox: a virtual node whatever its major (see
        PathCalls._mknod); a host device node at the path is shadowed."""
        path = os.path.normpath(os.path.abspath(r["path"]))
        major, minor = int(r["major"]), int(r["minor"])
        kind = stat.S_IFBLK if r.get("kind") == "b" else stat.S_IFCHR
        driver = self.sup.syscalls.drivers_by_major.get(major) if kind == stat.S_IFCHR else None
        if path in self.sup.vfs.nodes or (os.path.lexists(path) and not is_host_device_node(path)):
            raise RequestError(f"{path}: File exists")
        if not os.path.isdir(os.path.dirname(path)):
            raise RequestError(f"{os.path.dirname(path)}: No such file or directory")
        self.sup.vfs.add_node(
            path, driver, minor, int(r.get("mode", 0o666)), major=major, kind=kind
        )
        self.sup.vfs.nodes_changed = True
        if driver is not None:
            return {"path": path, "device": driver.name}
        host = host_device_path(kind, major, minor)
        return {"path": path, "device": f"the host's {host}" if host else None}

    def op_dmesg(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        c.follow_dmesg = bool(r.get("follow"))
        return {"lines": [list(x) for x in self.sup.dmesg]}

    def op_stop(self, c: Client, r: dict[str, Any]) -> dict[str, Any]:
        tgids = {t.tgid for t in self.sup.tracer.threads.values()}
        for tgid in tgids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(tgid, signal.SIGTERM)
        deadline = time.monotonic() + 2
        while self.sup.running() and time.monotonic() < deadline:
            self.sup.step(0.1)
        self.stopping = True
        return {"ended": len(tgids)}


def _same(a: Device, b: Device) -> bool:
    return origin(type(a)) == origin(type(b)) and a.config == b.config


def _difference(loaded: Device, wanted: Device) -> str:
    if origin(type(loaded)) != origin(type(wanted)):
        return f"class {origin(type(loaded))}, asked {origin(type(wanted))}"
    have, asked = defining_params(loaded), defining_params(wanted)
    return ", ".join(
        f"{k}={have.get(k, loaded.config.get(k))}, asked {asked.get(k, wanted.config.get(k))}"
        for k in dict.fromkeys([*have, *asked])
        if have.get(k, loaded.config.get(k)) != asked.get(k, wanted.config.get(k))
    )


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def _jsonable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, str, bool, float)) else str(v) for k, v in config.items()}


def run_daemon(name: str, device_specs: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    idle = float(os.environ.get("PTSANDBOX_IDLE_TIMEOUT", "60"))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    ready = os.environ.pop(READY_FD_ENV, "")  # the starter waits for its EOF
    try:
        daemon = Daemon(name, device_specs, idle)
    except OSError as e:
        log.error("cannot start namespace %s: %s", name, e)
        return 1
    finally:
        if ready.isdigit():
            with contextlib.suppress(OSError):
                os.close(int(ready))
    log.info("namespace %s serving on %s (pid %d)", name, daemon.path, os.getpid())
    signal.signal(signal.SIGTERM, lambda *_: setattr(daemon, "stopping", True))
    daemon.serve()
    return 0


__all__ = ["Daemon", "errno", "run_daemon"]
