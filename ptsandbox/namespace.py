"""Reaching a namespace: where its socket lives, starting it, talking to it.

A namespace is one supervisor process (`ptsandbox daemon`) that owns devices
and traces every program run in it. Its unix control socket is
`RUNTIME/NAME.sock`, where RUNTIME is $PTSANDBOX_RUNTIME_DIR, else
$XDG_RUNTIME_DIR/ptsandbox, else /tmp/ptsandbox-UID; the directory is the
user's own, mode 0700. The protocol is one JSON object per line each way.

Starting is race-free: a starter holds an flock on RUNTIME/NAME.lock, checks
once more that nobody answers, removes a stale socket (a killed supervisor's)
and starts the daemon, which binds before the lock is released. The starter
waits for an event, not a fixed time: the daemon inherits a pipe's write end
and closes it once it listens (or dies trying), so a slow start (an emulated
VM's Python imports take ~20 s) is waited for and a failed one seen at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_NAMESPACE = "default"
READY_FD_ENV = "PTSANDBOX_READY_FD"  # the daemon closes this fd once it listens
# a daemon still alive but not yet listening after this long is reported as not started
START_TIMEOUT = 120.0


class NamespaceError(Exception):
    """A namespace cannot be reached or refused a request (one line for the user)."""


def runtime_dir() -> Path:
    explicit = os.environ.get("PTSANDBOX_RUNTIME_DIR")
    if explicit:
        path = Path(explicit)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "ptsandbox"
    else:
        path = Path(f"/tmp/ptsandbox-{os.getuid()}")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid():
        raise NamespaceError(f"{path} belongs to uid {st.st_uid}, not to you: refusing to use it")
    if st.st_mode & 0o077:
        path.chmod(0o700)
    return path


def socket_path(name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise NamespaceError(f"invalid namespace name {name!r}")
    return runtime_dir() / f"{name}.sock"


class Connection:
    """A client's line-oriented JSON connection to a namespace."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.name = name
        self._file = sock.makefile("rwb", buffering=0)
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        self.server_pid, self.server_uid = (
            int.from_bytes(creds[0:4], "little"),
            int.from_bytes(creds[4:8], "little"),
        )
        if self.server_uid != os.getuid():
            raise NamespaceError(f"namespace {name} is served by uid {self.server_uid}, not you")

    def send(self, message: dict[str, Any]) -> None:
        self._file.write(json.dumps(message).encode() + b"\n")

    def receive(self) -> dict[str, Any]:
        line = self._file.readline()
        if not line:
            raise NamespaceError(f"namespace {self.name} closed the connection")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request and return its reply; raise NamespaceError on an error reply."""
        self.send({"op": op, **fields})
        reply = self.receive()
        if not reply.get("ok"):
            raise NamespaceError(reply.get("error", "request failed"))
        return reply

    def messages(self) -> Iterator[dict[str, Any]]:
        while True:
            line = self._file.readline()
            if not line:
                return
            yield json.loads(line)

    def close(self) -> None:
        self._file.close()
        self.sock.close()


def try_connect(name: str) -> Connection | None:
    path = socket_path(name)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    return Connection(sock, name)


def connect(name: str, start: bool = True, devices: list[str] | None = None) -> Connection:
    """Connect to namespace `name`, starting it in the background if needed."""
    conn = try_connect(name)
    if conn is not None or not start:
        if conn is None:
            raise NamespaceError(f"no namespace {name!r} is running")
        return conn
    lock_path = socket_path(name).with_suffix(".lock")
    with _locked(lock_path):
        conn = try_connect(name)  # someone may have started it while we waited
        if conn is not None:
            return conn
        with contextlib.suppress(FileNotFoundError):
            socket_path(name).unlink()  # stale: its supervisor was killed
        ready = _start_daemon(name, devices or [])
        try:
            # EOF when the daemon listens, or when it died before that
            poller = select.poll()
            poller.register(ready, select.POLLIN)
            poller.poll(START_TIMEOUT * 1000)
        finally:
            os.close(ready)
        conn = try_connect(name)
        if conn is not None:
            return conn
    raise NamespaceError(f"namespace {name} did not start (see {log_path(name)})")


def log_path(name: str) -> Path:
    return runtime_dir() / f"{name}.log"


def _start_daemon(name: str, devices: list[str]) -> int:
    """Start `ptsandbox daemon` detached: its own session, no terminal, reparented to init.
    Returns a pipe's read end that reaches EOF once the daemon listens (or has died)."""
    argv = [sys.executable, "-m", "ptsandbox", "daemon", "--namespace", name]
    for spec in devices:
        argv += ["--device", spec]
    with contextlib.suppress(FileNotFoundError):
        log_path(name).unlink()  # each supervisor its own log: its exit removes only that
    log = os.open(log_path(name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child: fork again so the daemon is nobody's child
        try:
            os.setsid()  # no terminal: Ctrl-C in the user's shell is not for it
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.dup2(ready_w, 3)
                os.set_inheritable(3, True)  # also when ready_w was 3 already
                os.closerange(4, 1024)
                os.execve(sys.executable, argv, {**os.environ, READY_FD_ENV: "3"})
        finally:
            os._exit(0)
    os.close(log)
    os.close(ready_w)
    os.waitpid(pid, 0)
    return ready_r


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the start lock. The file may be removed by an exiting supervisor
    (`remove_files`) while we wait: then lock the new one."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)


def remove_files(name: str, socket_ino: int) -> None:
    """A supervisor's clean exit: remove its socket, start lock and log, so that
    nothing piles up in the runtime directory. A file that is no longer ours (a
    new supervisor has started under the same name) is left alone."""
    sock, lock, log = socket_path(name), socket_path(name).with_suffix(".lock"), log_path(name)
    with contextlib.suppress(FileNotFoundError):
        if os.stat(sock).st_ino == socket_ino:
            sock.unlink()
    with contextlib.suppress(OSError), _locked(lock):
        if try_connect(name) is None:  # nobody took the name over meanwhile
            with contextlib.suppress(FileNotFoundError):
                if os.stat(log).st_ino == os.fstat(1).st_ino:
                    log.unlink()
            lock.unlink()
