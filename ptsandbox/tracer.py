"""ptrace mechanics only: spawn under a seccomp filter, stops, registers, memory.

The tracer knows nothing of devices or files. It reports each seccomp stop to a
`TraceHandler`, which answers with one of:

* an `int`: the syscall is skipped and that value becomes its result (one stop);
* `ALLOW`: the kernel runs the syscall untouched;
* a *job*: a generator that yields `Run` / `Park` actions and returns the final
  result. Each `Run` executes a syscall in the tracee (replacing the trapped
  one, or injected after it) and the generator receives its result. This keeps
  multi-stop work (open → socket → watch filter) linear for the caller.

Blocking is `Park`: the trapped call is turned into `ppoll()` so the thread
sleeps in the kernel, where signals reach it. When it comes back (woken by
`interrupt()`, by its fd becoming readable, or by a signal) the original call
is restored and either re-executed or handed to the kernel's own restart logic
with -ERESTARTSYS, so EINTR/SA_RESTART behave exactly as for a real read.

Direct ptrace(2) through ctypes: python-ptrace has no SEIZE, INTERRUPT, LISTEN,
seccomp events or GET_SYSCALL_INFO, and its memory access is word by word.
python-ptrace still provides the register layout.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import select
import signal
import struct
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ptrace.binding.linux_struct import user_regs_struct

from .seccomp import probe_filter
from .sysnr import NR

log = logging.getLogger("ptsandbox.tracer")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_ptrace = _libc.ptrace
_ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
_ptrace.restype = ctypes.c_long
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_CONT = 7
PTRACE_SYSCALL = 24
PTRACE_GETEVENTMSG = 0x4201
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208
PTRACE_GETSIGMASK = 0x420A
PTRACE_SETSIGMASK = 0x420B
PTRACE_GET_SYSCALL_INFO = 0x420E

PTRACE_O_TRACESYSGOOD = 0x1
PTRACE_O_TRACEFORK = 0x2
PTRACE_O_TRACEVFORK = 0x4
PTRACE_O_TRACECLONE = 0x8
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000

EVENT_FORK, EVENT_VFORK, EVENT_CLONE, EVENT_EXEC = 1, 2, 3, 4
EVENT_SECCOMP = 7
EVENT_STOP = 128

SYSINFO_ENTRY, SYSINFO_EXIT = 1, 2
_EXIT_RVAL = struct.Struct("<q")  # struct ptrace_syscall_info: exit.rval at offset 24

ERESTARTSYS = 512
ERESTARTNOINTR = 513
ERESTARTNOHAND = 514

_WALL = 0x40000000
_SYSCALL_INSN_LEN = 2  # both `syscall` (0f 05) and `int $0x80` (cd 80)
_STOP_SIGNALS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
_RED_ZONE = 128
_ALL_SIGNALS = 0xFFFFFFFFFFFFFFFF
_MAX_UNANNOUNCED = 4096

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _IoVec(ctypes.Structure):
    _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


class TracerError(Exception):
    """A ptrace call failed in a way that is not "the tracee is gone"."""


PTRACE_FORBIDDEN = (
    "ptrace is not permitted here (a container's seccomp profile, or Yama ptrace_scope=3?): "
    "run the container with --cap-add SYS_PTRACE --security-opt seccomp=unconfined "
    "(Docker/Podman), or set kernel.yama.ptrace_scope to 1 or lower"
)


def _check(ret: int, what: str) -> int:
    if ret == -1:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return ret


def ptrace(request: int, pid: int, addr: int = 0, data: int = 0) -> int:
    ctypes.set_errno(0)
    return _check(_ptrace(request, pid, addr, data), f"ptrace({request:#x}, {pid})")


def _to_signed(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


# --------------------------------------------------------------------------
# What a handler may answer


class _Allow:
    def __repr__(self) -> str:
        return "ALLOW"


ALLOW = _Allow()


@dataclass(frozen=True)
class Scratch:
    """An argument placeholder: the address of `offset` in the job's scratch area."""

    offset: int = 0


@dataclass
class Run:
    """Execute syscall `nr` with `args` in the tracee; the job gets its result.

    `scratch` (bytes, or a function of the scratch address returning bytes) is
    written below the tracee's stack first; `Scratch(offset)` arguments point
    into it.
    """

    nr: int
    args: Sequence[int | Scratch] = ()
    scratch: bytes | Callable[[int], bytes] = b""


@dataclass
class Park:
    """Put the thread to sleep in the kernel instead of the trapped call.

    With `fd`, it sleeps in ppoll() on that fd (readable wakes it); without,
    in ppoll() on nothing, and only `Tracer.interrupt()` or a signal wakes it.
    Must be the job's first action; the job ends with it.
    """

    fd: int | None = None


Job = Generator[Run | Park, int, Any]
Outcome = int | _Allow | Job


class TraceHandler(Protocol):
    def on_syscall(self, thread: Thread, nr: int, args: tuple[int, ...]) -> Outcome: ...
    def on_unpark(self, thread: Thread) -> None: ...
    def on_signalled(self, thread: Thread) -> int | None: ...
    def on_new_task(self, thread: Thread, parent: Thread | None) -> None: ...
    def on_exec(self, thread: Thread) -> None: ...
    def on_exit(self, thread: Thread, status: int) -> None: ...
    def on_group_stop(self, thread: Thread, sig: int) -> None: ...
    def on_withdrawn(self, thread: Thread, nr: int, args: tuple[int, ...]) -> bool: ...


# --------------------------------------------------------------------------
# Per-thread state


@dataclass(eq=False)
class Thread:
    tid: int
    tgid: int
    regs: user_regs_struct = field(default_factory=user_regs_struct)
    # a job in progress: its generator, the registers at its seccomp stop,
    # and the action whose syscall the kernel is running for it
    job: Job | None = None
    job_regs: user_regs_struct | None = None
    job_action: Run | None = None
    expect_entry: bool = False  # an injected call: next syscall stop is its entry
    saved_sigmask: int | None = None
    parked: bool = False
    interrupted: bool = False
    started: bool = False  # its first stop (attach) has been seen
    gone: bool = False
    group_stopped: bool = False  # in a job-control stop (we issued PTRACE_LISTEN)
    announced: bool = True  # its parent's fork/clone event has been seen
    pidfd: int = -1
    # a call answered from a seccomp notification must sleep: it comes back from
    # the kernel with -ERESTARTNOINTR into the stop we asked for (park_notified)
    notified_park: Park | None = None
    notified_wake: bool = False  # woken before it got there: it just runs again
    # we ended its sleep with -ERESTARTSYS (a signal came), or the kernel runs the
    # call itself (a notified call allowed): an -ERESTARTSYS then is genuine
    own_restart: bool = False
    park_entry_pending: bool = False  # parked at an event stop, its ppoll not entered yet

    @property
    def in_syscall_job(self) -> bool:
        return self.job is not None or self.parked

    def comm(self) -> str:
        try:
            with open(f"/proc/{self.tid}/comm", "rb") as f:
                return f.read().strip().decode(errors="replace")
        except OSError:
            return "?"


def _copy_regs(regs: user_regs_struct) -> user_regs_struct:
    new = user_regs_struct()
    ctypes.memmove(ctypes.addressof(new), ctypes.addressof(regs), ctypes.sizeof(regs))
    return new


# --------------------------------------------------------------------------
# Memory of a tracee (process_vm_*: respects page protections like copy_*_user)


class _ReadScratch(threading.local):
    """A page-sized buffer and its iovecs, made once per thread: most reads are
    small (an ioctl's argument, a message) and allocating for each showed in
    profiles of the device-call path."""

    def __init__(self) -> None:
        self.buf = ctypes.create_string_buffer(4096)
        self.addr = ctypes.addressof(self.buf)
        self.local = _IoVec(self.addr, 0)
        self.remote = _IoVec(0, 0)
        self.local_ref = ctypes.byref(self.local)
        self.remote_ref = ctypes.byref(self.remote)


_scratch = _ReadScratch()


def read_memory(tid: int, addr: int, size: int) -> bytes:
    """Read `size` bytes at `addr`; raise OSError(EFAULT) unless all are readable."""
    if size == 0:
        return b""
    if size <= 4096:
        sc = _scratch
        sc.local.len = sc.remote.len = size
        sc.remote.base = addr
        n = _libc.process_vm_readv(tid, sc.local_ref, 1, sc.remote_ref, 1, 0)
        if n == size:
            return ctypes.string_at(sc.addr, size)
    else:
        buf = ctypes.create_string_buffer(size)
        local = _IoVec(ctypes.addressof(buf), size)
        remote = _IoVec(addr, size)
        n = _libc.process_vm_readv(tid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if n == size:
            return buf.raw
    e = ctypes.get_errno() if n < 0 else errno.EFAULT
    raise OSError(e, os.strerror(e))


def write_memory(tid: int, addr: int, data: bytes) -> None:
    """Write `data` at `addr`; raise OSError(EFAULT) unless all of it lands."""
    if not data:
        return
    buf = ctypes.create_string_buffer(data, len(data))
    local = _IoVec(ctypes.addressof(buf), len(data))
    remote = _IoVec(addr, len(data))
    n = _libc.process_vm_writev(tid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if n != len(data):
        e = ctypes.get_errno() if n < 0 else errno.EFAULT
        raise OSError(e, os.strerror(e))


def read_string(tid: int, addr: int, limit: int) -> bytes:
    """Read a NUL-terminated string of at most `limit` bytes (without the NUL).

    Raises OSError(EFAULT) for a bad pointer and OSError(ENAMETOOLONG) when no
    NUL comes within `limit` bytes. Reads page by page so that a string ending
    just before an unmapped page is still read.
    """
    out = bytearray()
    while len(out) < limit + 1:
        chunk = min(4096 - (addr % 4096), limit + 1 - len(out))
        data = read_memory(tid, addr, chunk)
        nul = data.find(b"\0")
        if nul >= 0:
            out += data[:nul]
            return bytes(out)
        out += data
        addr += chunk
    raise OSError(errno.ENAMETOOLONG, "string too long")


# --------------------------------------------------------------------------
# Spawning


def _signalfd_sigchld() -> int:
    """A non-blocking signalfd for SIGCHLD (SIGCHLD is blocked for the thread)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    mask = ctypes.create_string_buffer(128)
    bit = signal.SIGCHLD - 1
    mask[bit // 8] = bytes([1 << (bit % 8)])
    fd = _libc.signalfd(-1, mask, os.O_NONBLOCK | os.O_CLOEXEC)
    return _check(fd, "signalfd")


@dataclass
class SpawnSpec:
    argv: list[str]
    executable: str
    env: dict[str, str] | None = None
    cwd: str | None = None
    filter_program: bytes = b""
    stdin: int | None = None
    stdout: int | None = None
    stderr: int | None = None
    new_session: bool = False
    preexec: Callable[[], None] | None = None
    #: the tracer is another process (a namespace's supervisor): allow it to attach
    #: where Yama restricts ptrace, and read the filter from the go pipe
    ptracer: int | None = None


_PR_SET_PTRACER = 0x59616D61


def _read_exact(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            raise OSError(errno.ECANCELED, "the tracer gave up")
        data += chunk
    return data


def child_after_fork(spec: SpawnSpec, go_r: int, err_w: int) -> None:
    """Runs in the forked child: wait to be seized, install the filter, exec.

    With `spec.ptracer`, it first writes b"R" on the error pipe (ready to be seized),
    and the go pipe carries the filter (4-byte length first)."""
    try:
        if spec.ptracer is not None:
            # Yama (ptrace_scope 1) lets only ancestors trace unless told otherwise;
            # EINVAL means no Yama, which is fine
            failed = _libc.prctl(_PR_SET_PTRACER, spec.ptracer, 0, 0, 0) != 0
            if failed and ctypes.get_errno() != errno.EINVAL:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_PTRACER)")
            os.write(err_w, b"R")  # ready to be seized
            size = struct.unpack("<I", _read_exact(go_r, 4))[0]
            spec.filter_program = _read_exact(go_r, size)
        else:
            os.read(go_r, 1)
        for target, src in ((0, spec.stdin), (1, spec.stdout), (2, spec.stderr)):
            if src is not None and src != target:
                os.dup2(src, target)
        if spec.new_session:
            os.setsid()
        if spec.cwd:
            os.chdir(spec.cwd)
        if spec.preexec:
            spec.preexec()
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTOU,
                    signal.SIGTTIN, signal.SIGPIPE, signal.SIGCHLD):  # fmt: skip
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        if spec.filter_program:
            prog = ctypes.create_string_buffer(spec.filter_program, len(spec.filter_program))
            fprog = _SockFprog(len(spec.filter_program) // 8, ctypes.addressof(prog))
            _check(
                _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0),
                "prctl(SECCOMP)",
            )
        env = spec.env if spec.env is not None else dict(os.environ)
        os.execve(spec.executable, spec.argv, env)
    except OSError as e:
        os.write(err_w, struct.pack("i", e.errno or errno.EINVAL))
    except BaseException:
        os.write(err_w, struct.pack("i", errno.EINVAL))
    finally:
        os._exit(127)


def fork_waiting(spec: SpawnSpec) -> tuple[int, int, int]:
    """Fork a child that waits on a pipe to be seized before it installs the filter
    and execs. Returns (pid, the go pipe's write end, the error pipe's read end)."""
    go_r, go_w = os.pipe()
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(go_w)
        os.close(err_r)
        child_after_fork(spec, go_r, err_w)
    os.close(go_r)
    os.close(err_w)
    return pid, go_w, err_r


# --------------------------------------------------------------------------
# The tracer


class Tracer:
    """Seizes processes, follows their children and threads, dispatches stops."""

    OPTIONS = (
        PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE
        | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL
    )  # fmt: skip

    def __init__(self, handler: TraceHandler) -> None:
        self.handler = handler
        self.threads: dict[int, Thread] = {}
        self.sigfd = _signalfd_sigchld()
        self.stops = 0  # seccomp stops handled (for --stats)
        self.killing = False  # shutting down: every tracee met from now on is killed
        self.more_pending = False  # dispatch() stopped with stops still queued
        self._info = ctypes.create_string_buffer(88)
        self._mask = ctypes.c_uint64()
        # tids that exited before their parent's fork/clone event was handled: that
        # late event must not bring them back (the table would never empty)
        self._exited_unannounced: dict[int, None] = {}
        self.pidfd_thread = has_pidfd_thread()
        self.restart_withdrawn = False  # the notify backend: see _on_signal_stop
        # ptrace answers only the thread that attached: this one. Another thread of
        # ours (a listener's) hands its requests over with this, when set
        self.owner = threading.get_ident()
        self.hand_to_loop: Callable[[Callable[[], None]], None] | None = None

    # -- lifecycle -----------------------------------------------------------

    def fileno(self) -> int:
        return self.sigfd

    def close(self) -> None:
        for t in self.threads.values():
            self._close_pidfd(t)
        os.close(self.sigfd)

    def spawn(self, spec: SpawnSpec) -> int:
        """Fork, seize the child, let it install the filter and exec. Returns its pid."""
        missing = missing_kernel_feature()
        if missing:
            raise TracerError(missing)
        pid, go_w, err_r = fork_waiting(spec)
        try:
            ptrace(PTRACE_SEIZE, pid, 0, self.OPTIONS)
        except OSError as e:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            if e.errno in (errno.EPERM, errno.ENOSYS):
                raise TracerError(PTRACE_FORBIDDEN) from None
            raise
        t = Thread(pid, pid, started=True)
        self.threads[pid] = t
        self.handler.on_new_task(t, None)
        os.write(go_w, b"x")
        os.close(go_w)
        # EOF at exec (the pipe is CLOEXEC) or an errno from the child; the execve
        # itself stops in the filter, so keep serving stops meanwhile
        try:
            while True:
                ready, _, _ = select.select([err_r, self.sigfd], [], [])
                if err_r in ready:
                    err = os.read(err_r, 4)
                    break
                self.dispatch()
        finally:
            os.close(err_r)
        if err:
            # the child exits 127; reap it through the normal loop
            raise OSError(struct.unpack("i", err)[0], f"cannot execute {spec.executable}")
        return pid

    def thread_of(self, tid: int) -> Thread:
        """The thread with this tid (met now if its first stop has not come yet)."""
        return self._thread(tid)

    def attach(self, pid: int) -> Thread:
        """Seize a process another process started (it must not have exec'd yet)."""
        missing = missing_kernel_feature()
        if missing:
            raise OSError(errno.ENOSYS, missing)
        ptrace(PTRACE_SEIZE, pid, 0, self.OPTIONS)
        t = Thread(pid, pid, started=True)
        self.threads[pid] = t
        self.handler.on_new_task(t, None)
        return t

    # -- event loop ------------------------------------------------------------

    def dispatch(self, budget: int = 512) -> bool:
        """Handle the stops the kernel has queued for us (call on SIGCHLD).

        Handles at most `budget` of them, so that a storm of stops (a fork bomb
        retrying refused forks) cannot keep the caller from its timers; then
        `more_pending` says to call again at once (SIGCHLDs coalesce: no new
        signal may come for stops already queued). Returns False once no tracee
        (and no child) is left at all (ECHILD)."""
        try:
            while os.read(self.sigfd, 128 * 16):
                pass
        except BlockingIOError:
            pass
        self.more_pending = False
        for _ in range(budget):
            try:
                tid, status = os.waitpid(-1, os.WNOHANG | _WALL)
            except ChildProcessError:
                return False
            if tid == 0:
                return True
            if self.killing and tid not in self.threads and os.WIFSTOPPED(status):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(tid, signal.SIGKILL)  # a child we had not met yet
            self._on_wait_status(tid, status)
        self.more_pending = True
        return True

    def _thread(self, tid: int) -> Thread:
        t = self.threads.get(tid)
        if t is None:
            # a stop before its parent's fork/clone event (wait order is not event order)
            t = Thread(tid, _read_tgid(tid), announced=False)
            self.threads[tid] = t
            self._exited_unannounced.pop(tid, None)  # a new task with a reused tid
        return t

    def _on_wait_status(self, tid: int, status: int) -> None:
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            t = self.threads.pop(tid, None)
            if t is None:
                return
            t.gone = True
            if not t.announced:
                self._exited_unannounced[tid] = None
                while len(self._exited_unannounced) > _MAX_UNANNOUNCED:
                    # its parent died before reporting the fork: forget the oldest
                    del self._exited_unannounced[next(iter(self._exited_unannounced))]
            self._abandon_job(t)
            self._close_pidfd(t)
            self.handler.on_exit(t, status)
            return
        if not os.WIFSTOPPED(status):
            return
        t = self._thread(tid)
        sig = os.WSTOPSIG(status)
        event = status >> 16
        t.group_stopped = False
        try:
            if event == EVENT_SECCOMP:
                self._on_seccomp(t)
            elif sig == signal.SIGTRAP | 0x80:
                self._on_syscall_stop(t)
            elif event in (EVENT_FORK, EVENT_VFORK, EVENT_CLONE):
                self._on_new_child(t, event)
            elif event == EVENT_EXEC:
                self._on_exec(t)
            elif event == EVENT_STOP:
                self._on_event_stop(t, sig)
            else:
                self._on_signal_stop(t, sig)
        except ProcessLookupError:
            pass  # killed under us (SIGKILL): its exit status follows
        except Exception:
            # never let one tracee's odd state take the supervisor down
            log.exception("handling a stop of tid %d failed; resuming it", tid)
            with contextlib.suppress(OSError):
                self._resume(t)

    def _on_signal_stop(self, t: Thread, sig: int) -> None:
        """A signal-delivery-stop: deliver the signal. With `restart_withdrawn`, a
        call it withdrew from a seccomp notification before the supervisor took
        it (the kernel says -ERESTARTSYS) is made -ERESTARTNOINTR when the
        handler says it would have been answered at once: it runs after the
        signal's handler, as if the signal had come just before it, never
        failing with EINTR where the kernel's own call could not."""
        if t.park_entry_pending:
            self._undo_notified_park(t)
        elif self.restart_withdrawn:
            own, t.own_restart = t.own_restart, False
            regs = t.regs
            ptrace(PTRACE_GETREGS, t.tid, 0, ctypes.addressof(regs))
            if not own and _to_signed(regs.rax) == -ERESTARTSYS:
                args = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
                if self.handler.on_withdrawn(t, regs.orig_rax, args):
                    regs.rax = (-ERESTARTNOINTR) & 0xFFFFFFFFFFFFFFFF
                    ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
        self._resume(t, sig)

    def _undo_notified_park(self, t: Thread) -> None:
        """A signal came before the parked call reached its ppoll(): no sleep; the
        kernel picks EINTR or a restart for the call, as for a read it interrupted."""
        regs = t.job_regs
        assert regs is not None
        t.park_entry_pending = t.parked = False
        t.job_regs = None
        final = self.handler.on_signalled(t)  # a driver may finish the call
        regs.rax = (-ERESTARTSYS if final is None else final) & 0xFFFFFFFFFFFFFFFF
        t.own_restart = final is None
        ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
        self.handler.on_unpark(t)

    def _on_event_stop(self, t: Thread, sig: int) -> None:
        if t.notified_park is not None and sig == signal.SIGTRAP and t.started:
            self._park_notified_stop(t)
            return
        if t.park_entry_pending and t.interrupted and sig == signal.SIGTRAP:
            # our wake-up (interrupt()) trapped before the ppoll() began, and would
            # not end it now: no sleep, the call runs again (-ERESTARTNOINTR kept)
            regs = t.job_regs
            assert regs is not None
            t.park_entry_pending = t.parked = False
            t.job_regs = None
            ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
            self.handler.on_unpark(t)
            self._resume(t)
            return
        if not t.started:
            # a new child's first stop; it may come before its parent's fork event
            # (or instead of it, if the parent was killed). The kernel reports it
            # with SIGTRAP, or with the stop signal when the thread group is in a
            # group-stop (a thread born while SIGSTOP was being delivered): then it
            # is that group-stop, and resuming it would leave one thread running
            t.started = True
            if sig not in _STOP_SIGNALS:
                self._resume(t)
                return
        if sig in _STOP_SIGNALS:
            # group-stop (SEIZE): stay stopped but let SIGCONT wake it
            ptrace(PTRACE_LISTEN, t.tid)
            t.group_stopped = True
            self.handler.on_group_stop(t, sig)
            return
        self._resume(t)

    def _on_new_child(self, parent: Thread, event: int) -> None:
        msg = ctypes.c_ulong()
        ptrace(PTRACE_GETEVENTMSG, parent.tid, 0, ctypes.addressof(msg))
        child_tid = msg.value
        tgid = child_tid if event != EVENT_CLONE else _read_tgid(child_tid)
        child = self.threads.get(child_tid)
        if child is None:
            if child_tid in self._exited_unannounced:
                # it ran and exited before this event reached us: nothing to follow
                del self._exited_unannounced[child_tid]
                self._resume(parent)
                return
            child = Thread(child_tid, tgid)
            self.threads[child_tid] = child
        child.tgid = tgid
        child.announced = True
        self.handler.on_new_task(child, parent)
        self._resume(parent)

    def _on_exec(self, t: Thread) -> None:
        msg = ctypes.c_ulong()
        ptrace(PTRACE_GETEVENTMSG, t.tid, 0, ctypes.addressof(msg))
        former = msg.value
        if former != t.tid:
            old = self.threads.pop(former, None)
            if old is not None:
                self._close_pidfd(old)
        t.tgid = t.tid
        self._close_pidfd(t)  # a non-leader's exec takes over the leader's pid
        t.job = t.job_regs = t.job_action = None
        t.parked = t.park_entry_pending = False
        t.notified_park = None
        self.handler.on_exec(t)
        self._resume(t)

    # -- syscalls --------------------------------------------------------------

    def _on_seccomp(self, t: Thread) -> None:
        if t.job is not None or t.parked:
            self._resume(t)  # an injected call of ours passing the filter
            return
        self.stops += 1
        regs = t.regs
        ptrace(PTRACE_GETREGS, t.tid, 0, ctypes.addressof(regs))
        nr = regs.orig_rax  # x86_64 only: the filter refuses i386 and x32 calls itself
        args = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
        try:
            outcome = self.handler.on_syscall(t, nr, args)
        except Exception:
            log.exception("handling syscall %d of tid %d failed", nr, t.tid)
            outcome = -errno.EIO
        if outcome is ALLOW:
            self._resume(t)
        elif isinstance(outcome, int):
            self._finish_at_entry(t, outcome)
        else:
            assert not isinstance(outcome, _Allow)
            t.job = outcome
            t.job_regs = _copy_regs(regs)
            self._step_job(t, None, at_entry=True)

    def _finish_at_entry(self, t: Thread, result: int) -> None:
        regs = t.regs
        regs.orig_rax = (1 << 64) - 1  # skip the call ...
        regs.rax = result & 0xFFFFFFFFFFFFFFFF  # ... and keep this as its result
        ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
        self._resume(t)

    def _step_job(self, t: Thread, result: int | None, at_entry: bool) -> None:
        """Advance the job with the last call's result and carry out its next action."""
        assert t.job is not None and t.job_regs is not None
        try:
            action = t.job.send(result) if result is not None else next(t.job)
        except StopIteration as stop:
            self._end_job(t, stop.value, at_entry)
            return
        except Exception:
            # a bug in a handler must not wedge the tracee or the supervisor
            log.exception("syscall job of tid %d failed", t.tid)
            self._end_job(t, -errno.EIO, at_entry)
            return
        if isinstance(action, Park):
            t.job.close()
            if not at_entry:
                log.error("Park must be a job's first action (tid %d)", t.tid)
                self._end_job(t, -errno.EIO, at_entry)
                return
            self._park(t, action)
            return
        regs = _copy_regs(t.job_regs)
        scratch_addr = (regs.rsp - _RED_ZONE - 4096) & ~0xF
        if action.scratch:
            data = action.scratch(scratch_addr) if callable(action.scratch) else action.scratch
            write_memory(t.tid, scratch_addr, data)
        args = [scratch_addr + a.offset if isinstance(a, Scratch) else a for a in action.args]
        args += [0] * (6 - len(args))
        regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9 = (
            a & 0xFFFFFFFFFFFFFFFF for a in args
        )
        t.job_action = action
        if at_entry:
            regs.orig_rax = action.nr  # replace the trapped call
            t.expect_entry = False
        else:
            self._block_signals(t)  # between our calls the tracee must run no handler
            regs.rax = action.nr  # re-execute the syscall instruction with a new call
            regs.rip -= _SYSCALL_INSN_LEN
            t.expect_entry = True
        ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
        self._resume(t)

    def _end_job(self, t: Thread, value: Any, at_entry: bool) -> None:
        result = int(value) if value is not None else 0
        t.job = None
        t.job_action = None
        if at_entry:
            t.job_regs = None
            self._finish_at_entry(t, result)
            return
        assert t.job_regs is not None
        regs = t.job_regs
        regs.rax = result & 0xFFFFFFFFFFFFFFFF
        t.job_regs = None
        ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
        self._restore_signals(t)
        self._resume(t)

    def _abandon_job(self, t: Thread) -> None:
        if t.job is not None:
            t.job.close()
            t.job = None
        t.notified_park = None
        if t.parked:
            t.parked = t.park_entry_pending = False
            self.handler.on_unpark(t)

    def _on_syscall_stop(self, t: Thread) -> None:
        if not t.in_syscall_job:
            self._resume(t)
            return
        op = self._syscall_op(t)
        if op == SYSINFO_ENTRY:
            t.expect_entry = False
            t.park_entry_pending = False
            self._resume(t)
            return
        if op != SYSINFO_EXIT:
            self._resume(t)
            return
        # the result is in the syscall info (exit.rval); a job's registers are
        # its own copy (job_regs), so no GETREGS here
        result = _EXIT_RVAL.unpack_from(self._info, 24)[0]
        if t.parked:
            self._unpark(t, result)
        else:
            self._step_job(t, result, at_entry=False)

    def _syscall_op(self, t: Thread) -> int:
        ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, len(self._info), ctypes.addressof(self._info))
        return self._info.raw[0]

    # -- parking ---------------------------------------------------------------

    def _park(self, t: Thread, action: Park) -> None:
        assert t.job_regs is not None
        self._sleep_in_ppoll(t, t.regs, action)

    def _sleep_in_ppoll(self, t: Thread, regs: user_regs_struct, action: Park) -> None:
        """Make the call about to run (orig_rax) a ppoll() on the Park's fd, or on nothing."""
        regs.orig_rax = NR["ppoll"]
        if action.fd is not None:
            addr = (regs.rsp - _RED_ZONE - 64) & ~0xF
            write_memory(t.tid, addr, struct.pack("<ihh", action.fd, 0x1, 0))  # POLLIN
            regs.rdi, regs.rsi = addr, 1
        else:
            regs.rdi, regs.rsi = 0, 0
        regs.rdx = regs.r10 = regs.r8 = 0  # no timeout, no sigmask change
        t.job = None
        t.parked = True
        t.interrupted = False
        ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
        self._resume(t)

    def _unpark(self, t: Thread, result: int) -> None:
        regs = t.job_regs
        assert regs is not None
        t.parked = False
        t.job_regs = None
        final = self.handler.on_signalled(t) if result < 0 and _signal_pending(t.tid) else None
        if final is not None:
            # the driver finished the call when the signal came: that is its result
            regs.rax = final & 0xFFFFFFFFFFFFFFFF
        elif result >= 0:
            # woken by readiness with no signal pending: run the call again
            regs.rax = regs.orig_rax
            regs.rip -= _SYSCALL_INSN_LEN
        else:
            # a signal (or our interrupt) is pending: let the kernel decide between
            # EINTR and a restart exactly as for an interrupted read (SA_RESTART)
            regs.rax = (-ERESTARTSYS) & 0xFFFFFFFFFFFFFFFF
            t.own_restart = True
        ptrace(PTRACE_SETREGS, t.tid, 0, ctypes.addressof(regs))
        self.handler.on_unpark(t)
        self._resume(t)

    def park_notified(self, t: Thread, action: Park) -> bool:
        """`t` waits in a seccomp notification for a call that must sleep. Ask for a
        stop (PTRACE_INTERRUPT: its wait is killable only, so it keeps waiting);
        the caller then answers the notification with -ERESTARTNOINTR. At the
        stop that follows, the call becomes the Park's ppoll() as if it had been
        parked at a seccomp stop; should the stop not come as expected, the
        kernel restarts the call and it is notified again. False: `t` is gone."""
        try:
            ptrace(PTRACE_INTERRUPT, t.tid)
        except OSError:
            return False
        t.notified_park = action
        t.notified_wake = False
        return True

    def forget_notified_park(self, t: Thread) -> None:
        """`t` is in a new notification: a park asked for earlier never happened."""
        t.own_restart = False
        if t.notified_park is not None:
            t.notified_park = None
            t.notified_wake = False
            self.handler.on_unpark(t)

    def _park_notified_stop(self, t: Thread) -> None:
        action, t.notified_park = t.notified_park, None
        assert action is not None
        regs = t.regs
        ptrace(PTRACE_GETREGS, t.tid, 0, ctypes.addressof(regs))
        restarting = _to_signed(regs.rax) in (-ERESTARTNOINTR, -ERESTARTSYS)
        if not restarting or t.notified_wake:
            # woken already: no sleep, the kernel restarts the call
            t.notified_wake = False
            self.handler.on_unpark(t)
            self._resume(t)
            return
        # the restart logic runs orig_rax (rip -= 2): make that the ppoll; the
        # call's own registers are kept for _unpark, as for a seccomp-stop park.
        # A signal already pending stops the thread before it gets there
        # (_on_signal_stop undoes the park then).
        t.job_regs = _copy_regs(regs)
        t.park_entry_pending = True
        self._sleep_in_ppoll(t, regs, action)

    def interrupt(self, t: Thread) -> None:
        """Wake a parked thread so that it re-runs its call (from another thread of
        ours, by handing the request to the tracer thread: ptrace is per-thread)."""
        if threading.get_ident() != self.owner and self.hand_to_loop is not None:
            self.hand_to_loop(lambda: self.interrupt(t))
            return
        if t.notified_park is not None:
            t.notified_wake = True  # not asleep yet (park_notified): it will not be
            return
        if t.parked and not t.interrupted and not t.gone:
            t.interrupted = True
            with contextlib.suppress(ProcessLookupError):
                ptrace(PTRACE_INTERRUPT, t.tid)

    # -- signals during injected calls -----------------------------------------

    def _block_signals(self, t: Thread) -> None:
        if t.saved_sigmask is not None:
            return
        ptrace(PTRACE_GETSIGMASK, t.tid, 8, ctypes.addressof(self._mask))
        t.saved_sigmask = self._mask.value
        self._mask.value = _ALL_SIGNALS
        ptrace(PTRACE_SETSIGMASK, t.tid, 8, ctypes.addressof(self._mask))

    def _restore_signals(self, t: Thread) -> None:
        if t.saved_sigmask is None:
            return
        self._mask.value = t.saved_sigmask
        t.saved_sigmask = None
        ptrace(PTRACE_SETSIGMASK, t.tid, 8, ctypes.addressof(self._mask))

    # -- helpers ---------------------------------------------------------------

    def _resume(self, t: Thread, sig: int = 0) -> None:
        request = PTRACE_SYSCALL if t.in_syscall_job else PTRACE_CONT
        ptrace(request, t.tid, 0, sig)

    def pidfd(self, t: Thread) -> int:
        """A pidfd for this thread (PIDFD_THREAD), else for its process; cached."""
        if t.pidfd < 0:
            t.pidfd = pidfd_open(t.tid if self.pidfd_thread else t.tgid, self.pidfd_thread)
        return t.pidfd

    def copy_fd(self, t: Thread, fd: int) -> int:
        """A copy of `fd` from this thread's own fd table; the caller closes it at once.

        Without PIDFD_THREAD (Linux < 6.9) a pidfd can only name a process, and
        pidfd_getfd() then reaches the *leader's* table: right for threads that
        share it (CLONE_FILES), wrong for one with a table of its own, and
        impossible once the leader has exited. The copy is therefore checked to
        be the file /proc/TID/fd/N names; OSError(EXDEV) says that no pidfd
        reaches this thread's table, and the caller must have the thread itself
        do the work (inject the call)."""
        try:
            copy = pidfd_getfd(self.pidfd(t), fd)
        except OSError as e:
            if self.pidfd_thread or t.tid == t.tgid:
                raise
            raise OSError(errno.EXDEV, f"the leader's fd table is gone: {e.strerror}") from None
        if self.pidfd_thread or t.tid == t.tgid:
            return copy
        try:
            mine = os.stat(f"/proc/{t.tid}/fd/{fd}")
            got = os.fstat(copy)
        except OSError:
            os.close(copy)
            raise
        if (mine.st_dev, mine.st_ino) != (got.st_dev, got.st_ino):
            os.close(copy)
            raise OSError(errno.EXDEV, "the thread has an fd table of its own")
        return copy

    def _close_pidfd(self, t: Thread) -> None:
        if t.pidfd >= 0:
            os.close(t.pidfd)
            t.pidfd = -1

    def kill_all(self) -> None:
        """SIGKILL every tracee, including children whose first stop is still queued."""
        self.killing = True
        for tid in list(self.threads):
            with contextlib.suppress(ProcessLookupError):
                os.kill(tid, signal.SIGKILL)

    def reap_all(self, timeout: float) -> bool:
        """After kill_all: handle events until no tracee is left (True) or the timeout."""
        deadline = time.monotonic() + timeout
        while self.dispatch():
            self.kill_all()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self.more_pending:
                select.select([self.sigfd], [], [], min(left, 0.1))
        return True


PIDFD_THREAD = os.O_EXCL  # Linux >= 6.9: a pidfd for a thread, not a process
NO_PIDFD_THREAD_ENV = "PTSANDBOX_NO_PIDFD_THREAD"


def pidfd_open(pid: int, thread: bool = False) -> int:
    """A pidfd for a process (a leader's tid), or with `thread` for any thread."""
    return _check(_syscall(NR["pidfd_open"], pid, PIDFD_THREAD if thread else 0), "pidfd_open")


def has_pidfd_thread() -> bool:
    """Does this kernel take PIDFD_THREAD (and the environment not refuse it)?"""
    if os.environ.get(NO_PIDFD_THREAD_ENV, "") not in ("", "0"):
        return False  # behave as on a kernel before 6.9 (tests, bug hunts)
    fd = _syscall(NR["pidfd_open"], os.getpid(), PIDFD_THREAD)
    if fd < 0:
        return False
    os.close(fd)
    return True


def pidfd_getfd(pidfd: int, fd: int) -> int:
    """A copy of another process's fd (the caller must close it promptly)."""
    return _check(_syscall(NR["pidfd_getfd"], pidfd, fd, 0), "pidfd_getfd")


KCMP_FILES = 2


def same_fd_table(tid1: int, tid2: int) -> bool | None:
    """Do two tasks share one fd table (kcmp KCMP_FILES)? None when the kernel
    cannot say (no kcmp, or a task gone)."""
    ret = _syscall(NR["kcmp"], tid1, tid2, KCMP_FILES, 0, 0)
    return None if ret < 0 else ret == 0


def _signal_pending(tid: int) -> bool:
    """A signal is pending for the thread and not blocked (as /proc/TID/status says)."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                key, _, value = line.partition(b":")
                if key in (b"SigPnd", b"ShdPnd", b"SigBlk"):
                    fields[key.decode()] = int(value.strip(), 16)
    except (OSError, ValueError):
        return False
    pending = fields.get("SigPnd", 0) | fields.get("ShdPnd", 0)
    return bool(pending & ~fields.get("SigBlk", 0))


def _read_tgid(tid: int) -> int:
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return tid


# --------------------------------------------------------------------------
# What the kernel must have (probed once, by trying each feature)

PROBE_FAIL_ENV = "PTSANDBOX_PROBE_FAIL"  # name a feature to act as if it were missing
MIN_KERNEL = "5.6"
FEATURES = {
    "pidfd_open": "pidfd_open (Linux 5.3)",
    "pidfd_getfd": "pidfd_getfd (Linux 5.6)",
    "process_vm_readv": "process_vm_readv (Linux 3.2)",
    "ptrace_seize": "PTRACE_SEIZE with PTRACE_O_EXITKILL and PTRACE_O_TRACESECCOMP (Linux 3.8)",
    "seccomp_tsync": "seccomp() with SECCOMP_FILTER_FLAG_TSYNC (Linux 3.17)",
    "seccomp_trace": "seccomp RET_TRACE stops before the syscall (Linux 4.8)",
    "get_syscall_info": "PTRACE_GET_SYSCALL_INFO (Linux 5.3)",
}
_probed: list[str | None] = []
_FORBIDDEN = "ptrace_forbidden"


def missing_kernel_feature() -> str | None:
    """None, or one line naming the first feature this kernel lacks."""
    if not _probed:
        forced = os.environ.get(PROBE_FAIL_ENV, "")
        name = forced if forced in FEATURES else _probe()
        if name is None:
            _probed.append(None)
        elif name == _FORBIDDEN:
            _probed.append(PTRACE_FORBIDDEN)
        else:
            _probed.append(
                f"this kernel lacks {FEATURES[name]} (or a container's seccomp profile "
                f"refuses it); ptsandbox needs Linux {MIN_KERNEL} or later"
            )
    return _probed[0]


def _probe() -> str | None:
    pidfd = _syscall(NR["pidfd_open"], os.getpid(), 0)
    if pidfd < 0:
        return "pidfd_open"
    r, w = os.pipe()
    try:
        copy = _syscall(NR["pidfd_getfd"], pidfd, r, 0)
        if copy < 0:
            return "pidfd_getfd"
        os.close(copy)
        try:
            read_memory(os.getpid(), ctypes.addressof(_PROBE_WORD), 8)
        except OSError:
            return "process_vm_readv"
        return _probe_tracing()
    finally:
        for fd in (pidfd, r, w):
            os.close(fd)


_PROBE_WORD = ctypes.c_uint64(0x5054534E44424F58)


def _probe_tracing() -> str | None:
    """Trace a child through one seccomp stop, as the supervisor traces programs."""
    prog = probe_filter(NR["getppid"])
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.read(go_r, 1)
            _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            buf = ctypes.create_string_buffer(prog, len(prog))
            fprog = _SockFprog(len(prog) // 8, ctypes.addressof(buf))
            if _syscall(NR["seccomp"], 1, 1, ctypes.byref(fprog)) != 0:  # TSYNC
                os._exit(10)
            _syscall(NR["getppid"])
        finally:
            os._exit(0)
    os.close(go_r)
    missing: str | None = "seccomp_trace"
    try:
        try:
            ptrace(PTRACE_SEIZE, pid, 0, Tracer.OPTIONS)
        except OSError as e:
            # EPERM/ENOSYS: ptrace itself is refused (old kernels say EIO or EINVAL)
            return _FORBIDDEN if e.errno in (errno.EPERM, errno.ENOSYS) else "ptrace_seize"
        os.write(go_w, b"x")
        info = ctypes.create_string_buffer(88)
        while True:
            _, status = os.waitpid(pid, _WALL)
            if os.WIFEXITED(status):
                return "seccomp_tsync" if os.WEXITSTATUS(status) == 10 else missing
            if os.WIFSIGNALED(status):
                return missing
            if status >> 16 == EVENT_SECCOMP:
                missing = None
                try:
                    ptrace(PTRACE_GET_SYSCALL_INFO, pid, len(info), ctypes.addressof(info))
                except OSError:
                    missing = "get_syscall_info"
            ptrace(PTRACE_CONT, pid, 0, 0)
    finally:
        os.close(go_w)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, _WALL)
