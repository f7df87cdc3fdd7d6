"""Start a module's host process and talk to it (the layouts of host/protocol.h).

One `ModuleHost` per loaded module. Requests go out as packets on a
SOCK_SEQPACKET pair; replies come back asynchronously: `pump()` reads what is
there and hands each message to the callbacks, `wait()` pumps until one call
has finished (or gone to sleep, or the timeout passed).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import select
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQ = struct.Struct("<IIii16sQIIqQQQ")
MSG = struct.Struct("<IIqqQIIII")

OP_LOAD, OP_UNLOAD, OP_OPEN, OP_READ, OP_WRITE, OP_IOCTL = 1, 2, 3, 4, 5, 6
OP_COMPAT_IOCTL, OP_LLSEEK, OP_POLL, OP_RELEASE, OP_SIGNAL = 7, 8, 9, 10, 11
MSG_DONE, MSG_SLEEP, MSG_PRINTK, MSG_REPORT, MSG_WAKE, MSG_CHRDEV, MSG_NODE = 1, 2, 3, 4, 5, 6, 7
MSG_HELLO = 8

ASAN_OPTIONS = ":".join(
    [
        "halt_on_error=0",  # KASAN reports and goes on; so does the module
        "detect_leaks=0",  # LeakSanitizer cannot run under ptrace; kmemleak does it
        "handle_segv=0",  # faults are the host's: it turns them into an Oops
        "handle_sigbus=0",
        "handle_sigfpe=0",
        "handle_sigill=0",
        "allow_user_segv_handler=1",
        "print_summary=0",
        "symbolize=0",
    ]
)


@dataclass
class Call:
    """One request in flight."""

    id: int
    op: int
    tid: int
    tgid: int
    done: bool = False
    sleeping: bool = False
    result: int = 0
    pos: int = 0
    file: int = 0
    oopsed: bool = False
    orphaned: bool = False  # its caller went away; the result is dropped
    on_done: Callable[[Call], None] | None = None
    owner: Any = None  # the open file that made it
    queue: Any = None  # where its parked caller waits


@dataclass
class Message:
    kind: int
    call: int
    result: int
    pos: int
    file: int
    a: int
    b: int
    payload: bytes = b""


class HostDied(Exception):
    pass


@dataclass
class ModuleHost:
    binary: Path
    on_message: Callable[[Message], None]
    zero_alloc: bool = False
    hung_timeout_ms: int = 120_000
    proc: subprocess.Popen[bytes] | None = None
    sock: socket.socket | None = None
    calls: dict[int, Call] = field(default_factory=dict)
    next_id: int = 1
    dead: bool = False
    pid: int = 0
    stderr_tail: list[str] = field(default_factory=list)
    _err_buf: bytes = b""

    def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for s in (ours, theirs):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        args = [str(self.binary), "--hung-timeout", str(self.hung_timeout_ms)]
        if self.zero_alloc:
            args.append("--zero-alloc")
        env = dict(
            os.environ,
            ASAN_OPTIONS=ASAN_OPTIONS,
            UBSAN_OPTIONS="print_stacktrace=0:halt_on_error=0",
        )
        fd = theirs.fileno()

        def child_setup() -> None:
            os.dup2(fd, 3)

        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(fd, 3),  # fd 3 is the dup2 made in child_setup
            preexec_fn=child_setup,
            env=env,
        )
        theirs.close()
        self.proc.wait()  # the host forks away at once (see host.c) and says its pid
        self.sock = ours
        ours.settimeout(30)
        try:
            hello = ours.recv(MSG.size + 16)
        except OSError:
            hello = b""
        ours.setblocking(False)
        if len(hello) < MSG.size or MSG.unpack_from(hello)[0] != MSG_HELLO:
            self.dead = True
            raise HostDied(f"the module host did not start ({self.binary})")
        self.pid = MSG.unpack_from(hello)[2]
        assert self.proc.stderr is not None
        os.set_blocking(self.proc.stderr.fileno(), False)

    # -- requests ------------------------------------------------------------

    def request(
        self,
        op: int,
        *,
        tid: int = 0,
        tgid: int = 0,
        comm: str = "",
        file: int = 0,
        flags: int = 0,
        pos: int = 0,
        a0: int = 0,
        a1: int = 0,
        a2: int = 0,
        payload: bytes = b"",
        memfd: int | None = None,
    ) -> Call:
        call = Call(self.next_id, op, tid, tgid)
        self.next_id += 1
        if self.dead:
            call.done, call.result = True, -5
            return call
        self.calls[call.id] = call
        head = REQ.pack(
            op, call.id, tid, tgid, comm.encode()[:15], file, flags & 0xFFFFFFFF, len(payload),
            pos, a0 & 0xFFFFFFFFFFFFFFFF, a1 & 0xFFFFFFFFFFFFFFFF, a2 & 0xFFFFFFFFFFFFFFFF,
        )  # fmt: skip
        self._send(head + payload, memfd)
        return call

    def signal(self, call: Call, fatal: bool) -> None:
        if not self.dead and not call.done:
            self._send(REQ.pack(OP_SIGNAL, 0, 0, 0, b"", 0, 0, 0, 0, call.id, int(fatal), 0), None)

    def _send(self, data: bytes, memfd: int | None) -> None:
        assert self.sock is not None
        fds = [memfd] if memfd is not None else []
        try:
            self.sock.setblocking(True)
            socket.send_fds(self.sock, [data], fds) if fds else self.sock.send(data)
        except OSError:
            self._died()
        finally:
            with contextlib.suppress(OSError):
                self.sock.setblocking(False)

    # -- replies ---------------------------------------------------------------

    def fileno(self) -> int:
        assert self.sock is not None
        return self.sock.fileno()

    def stderr_fileno(self) -> int:
        assert self.proc is not None and self.proc.stderr is not None
        return self.proc.stderr.fileno()

    def pump(self) -> None:
        """Handle every message waiting now."""
        assert self.sock is not None
        while not self.dead:
            try:
                data = self.sock.recv(MSG.size + 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._died()
                return
            kind, call, result, pos, file, a, b, _len, _pad = MSG.unpack_from(data)
            self._handle(Message(kind, call, result, pos, file, a, b, data[MSG.size :]))

    def _handle(self, m: Message) -> None:
        call = self.calls.get(m.call)
        if m.kind == MSG_SLEEP and call is not None:
            call.sleeping = True
        if m.kind == MSG_DONE and call is not None:
            call.done, call.result, call.pos, call.file = True, m.result, m.pos, m.file
            call.oopsed = call.oopsed or m.b == 1
            del self.calls[m.call]
        self.on_message(m)
        if m.kind == MSG_DONE and call is not None and call.on_done is not None:
            call.on_done(call)

    def wait(self, call: Call, timeout: float, until_sleep: bool = True) -> bool:
        """Pump until `call` is done (True), or asleep / `timeout` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while not call.done and not self.dead:
            if until_sleep and call.sleeping:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.fileno()], [], [], left)
            if r:
                self.pump()
        return call.done

    def read_stderr(self) -> list[str]:
        """New complete lines the host wrote on stderr (sanitizer text, UBSan)."""
        assert self.proc is not None and self.proc.stderr is not None
        try:
            chunk = os.read(self.proc.stderr.fileno(), 65536)
        except BlockingIOError:
            return []
        except OSError:
            chunk = b""
        self._err_buf += chunk
        *lines, self._err_buf = self._err_buf.split(b"\n")
        out = [line.decode(errors="replace") for line in lines]
        self.stderr_tail = (self.stderr_tail + out)[-200:]
        return out

    def _died(self) -> None:
        if self.dead:
            return
        self.dead = True
        for call in list(self.calls.values()):
            call.done, call.result = True, -5  # EIO: the driver is gone
            if call.on_done is not None:
                call.on_done(call)
        self.calls.clear()

    def close(self, timeout: float = 5.0) -> None:
        """End the host: it exits when its socket closes; a stuck one is killed."""
        if self.sock is not None:
            self.sock.close()
        if self.pid and not self._gone(timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.dead = True

    def _gone(self, timeout: float) -> bool:
        """Wait for the host (not our child) to end: its pidfd becomes readable."""
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:
            return True
        try:
            return bool(select.select([pidfd], [], [], timeout)[0])
        finally:
            os.close(pidfd)


# --------------------------------------------------------------------------
# Symbolizing the pc tokens of a report


TOKEN = re.compile(r"\{\{(pc|ret):([0-9a-f]+)\}\}")


@dataclass
class Frame:
    function: str
    offset: int
    size: int
    location: str  # "file.c:12" or ""
    in_module: bool
    in_host: bool
    internal: bool = False  # the runtime's own helpers: not shown


class Symbolizer:
    """Addresses in the (non-PIE) host binary -> function+off/size (file:line)."""

    def __init__(self, binary: Path, module: str, sources: tuple[Path, ...]) -> None:
        self.binary = binary
        self.module = module
        self.sources = {s.name for s in sources}
        self._starts: list[int] = []
        self._syms: list[tuple[int, int, str]] = []
        self._local: set[str] = set()  # static functions (nm type t)
        try:
            out = subprocess.run(
                ["nm", "-S", "--defined-only", str(binary)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
        except OSError:
            out = ""
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2] in "tTwW":
                self._syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
                if parts[2] == "t":
                    self._local.add(parts[3])
        self._syms.sort()
        self._starts = [s[0] for s in self._syms]

    def frames(self, addrs: list[int]) -> list[Frame]:
        if not addrs:
            return []
        try:
            out = subprocess.run(
                ["addr2line", "-e", str(self.binary), *(f"{a:x}" for a in addrs)],
                capture_output=True, text=True, check=False,
            ).stdout.splitlines()  # fmt: skip
        except OSError:
            out = []
        result = []
        for i, a in enumerate(addrs):
            loc = out[i] if i < len(out) else "??:0"
            loc = re.sub(r" \(discriminator \d+\)", "", loc)
            k = bisect.bisect_right(self._starts, a) - 1
            if k >= 0 and self._syms[k][0] <= a < self._syms[k][0] + max(self._syms[k][1], 1):
                start, size, name = self._syms[k]
            else:
                start, size, name = a, 0, "??"
            file = loc.rsplit(":", 1)[0]
            base = os.path.basename(file)
            in_host = "/kmod/host/" in file or file.endswith("host.c")
            in_module = base in self.sources and "/kmod/runtime/" not in file
            line = loc.rsplit(":", 1)[-1]
            where = f"{base}:{line}" if base and base != "??" and line not in ("0", "?") else ""
            in_runtime = "/kmod/runtime/" in file
            internal = in_runtime and (name in self._local or name.startswith("ptsb_"))
            result.append(Frame(name, a - start, size, where, in_module, in_host, internal))
        return result

    def render(self, text: str) -> str:
        """The report with its pc tokens made readable, and its title filled in."""
        tokens = [(m.group(1), int(m.group(2), 16)) for m in TOKEN.finditer(text)]
        lookup = [a if kind == "pc" else a - 1 for kind, a in tokens]
        uniq = sorted(set(lookup))
        frames = dict(zip(uniq, self.frames(uniq), strict=True))
        title = ""
        fallback = ""
        out_lines = []
        in_trace = True  # the title comes from the first stack, not from "Allocated by"
        for line in text.split("\n"):
            if line.startswith(("Allocated by", "Freed by", "but task is already")):
                in_trace = False
            m = TOKEN.search(line)
            if m is None:
                out_lines.append(line)
                continue
            a = int(m.group(2), 16)
            f = frames.get(a if m.group(1) == "pc" else a - 1)
            if f is None or f.function == "??" or f.internal:
                continue  # C library, sanitizer or the runtime's own machinery
            if f.in_host:
                continue  # below the VFS: the host's loop
            shown = self._show(f)
            short = shown.split(" (")[0]
            if in_trace and f.in_module and not title:
                title = f"{short} [{self.module}]"
            if in_trace and not fallback:
                fallback = short
            out_lines.append(line[: m.start()] + shown + line[m.end() :])
        return "\n".join(out_lines).replace("{{title}}", title or fallback or "?")

    def _show(self, f: Frame) -> str:
        name = f.function.removeprefix("__ptsb_")
        text = f"{name}+{f.offset:#x}/{f.size:#x}"
        if f.location:
            text += f" ({f.location})"
        if f.in_module:
            text += f" [{self.module}]"
        return text
