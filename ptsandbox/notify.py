"""Seccomp user notification, the listener's side: receive a trapped call, answer it.

A filter returning SECCOMP_RET_USER_NOTIF (seccomp.watch_filter(notify=True))
makes the calling thread wait in the kernel while the supervisor, holding the
filter's *listener* fd, reads the call (`recv`) and answers it (`answer`,
`allow`). No ptrace stop, no register fetch: the arguments come in the
notification and the result goes back in the answer.

What a signal does to a waiting caller (Linux, kernel/seccomp.c): until the
notification is received the wait is interruptible, and a signal withdraws the
call (it is restarted or fails with EINTR as for any -ERESTARTSYS). Filters are
installed with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19), so once
received the wait is *killable* only: an answer is never lost to a signal that
arrives while the supervisor works (without the flag, a write already delivered
to the device could be restarted and delivered twice). SIGKILL still ends the
caller at once; then the answer fails with ENOENT, which `answer` reports. The
supervisor therefore never holds a notification while the call sleeps: a call
that must block is handed to ptrace (see Tracer.park_notified), where it sleeps
in ppoll() and every signal reaches it.

Only plumbing here: no devices, no ptrace.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import select
import signal
import struct
from dataclasses import dataclass

from .sysnr import NR

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_GET_ACTION_AVAIL = 2
SECCOMP_GET_NOTIF_SIZES = 3
SECCOMP_FILTER_FLAG_TSYNC = 1 << 0
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5
#: the flags of a watch filter that gets a listener
LISTENER_FLAGS = (
    SECCOMP_FILTER_FLAG_TSYNC
    | SECCOMP_FILTER_FLAG_TSYNC_ESRCH
    | SECCOMP_FILTER_FLAG_NEW_LISTENER
    | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
)
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1

# ioctls of the listener (include/uapi/linux/seccomp.h, magic '!')
IOCTL_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
IOCTL_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes
IOCTL_ID_VALID = 0x40082102  # _IOW('!', 2, __u64)
IOCTL_SET_FLAGS = 0x40082104  # _IOW('!', 4, __u64)

NOTIF_SIZE, RESP_SIZE = 80, 24
_NOTIF = struct.Struct("<QIIiIQ6Q")  # id, pid, flags, nr, arch, ip, args[6]
_RESP = struct.Struct("<QqiI")  # id, val, error, flags
_ZEROS = bytes(NOTIF_SIZE)
MAX_ERRNO = 4095

BACKENDS = ("ptrace", "notify")
BACKEND_ENV = "PTSANDBOX_BACKEND"  # the default backend (tests run the suite on each)


@dataclass(slots=True)
class Notification:
    id: int
    pid: int  # the calling thread's tid
    nr: int
    args: tuple[int, ...]


class Listener:
    """One listener fd (ours: a pidfd_getfd copy of the tracee's, which it closed)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray(NOTIF_SIZE)
        self.sync_wake_up = False
        try:  # Linux 6.6: the answer wakes the caller on this CPU, no cross-CPU wake-up
            # the flags go by value, not through a pointer (kernel/seccomp.c)
            fcntl.ioctl(fd, IOCTL_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
            self.sync_wake_up = True
        except OSError:
            pass

    def fileno(self) -> int:
        return self.fd

    def recv(self) -> Notification | None:
        """The next call; None when it was withdrawn (its caller was signalled or
        killed before we took it). Call only when the fd polled readable: the
        ioctl itself would wait."""
        buf = self._buf
        buf[:] = _ZEROS  # the kernel wants it zeroed
        try:
            fcntl.ioctl(self.fd, IOCTL_RECV, buf, True)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.EINTR):
                return None
            raise
        v = _NOTIF.unpack(buf)  # id, pid, flags, nr, arch, ip, args[6]
        return Notification(v[0], v[1], v[3], v[6:])

    def answer(self, nid: int, result: int) -> bool:
        """The call returns `result` (-errno for an error). False: the caller is gone."""
        if -MAX_ERRNO <= result < 0:
            resp = _RESP.pack(nid, 0, result, 0)
        else:
            resp = _RESP.pack(nid, result, 0, 0)
        return self._send(resp)

    def allow(self, nid: int) -> bool:
        """The kernel runs the call itself (not ours after all)."""
        return self._send(_RESP.pack(nid, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE))

    def _send(self, resp: bytes) -> bool:
        try:
            fcntl.ioctl(self.fd, IOCTL_SEND, resp)
        except OSError as e:
            if e.errno == errno.ENOENT:
                return False
            raise
        return True

    def orphaned(self) -> bool:
        """Has every process of the filter gone (the listener polls as hung up)?"""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        return any(ev & select.POLLHUP for _fd, ev in poller.poll(0))

    def valid(self, nid: int) -> bool:
        """Is the caller still waiting for this notification (SECCOMP_IOCTL_NOTIF_ID_VALID)?"""
        try:
            fcntl.ioctl(self.fd, IOCTL_ID_VALID, struct.pack("<Q", nid))
        except OSError:
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1


# --------------------------------------------------------------------------
# What the kernel must have (probed once, in a child)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_PR_SET_NO_NEW_PRIVS = 38
_probed: list[str | None] = []
NOTIFY_PROBE_FAIL_ENV = "PTSANDBOX_NO_NOTIFY"  # act as if the kernel lacked it (tests)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def missing_notify_feature() -> str | None:
    """None, or why this kernel cannot run the notify backend."""
    if os.environ.get(NOTIFY_PROBE_FAIL_ENV, "") not in ("", "0"):
        return f"{NOTIFY_PROBE_FAIL_ENV} is set"
    from .tracer import has_pidfd_thread

    if not has_pidfd_thread():  # (asked each time: the environment can refuse it)
        # a listener is taken from the thread that installed it: its own fd table
        return "pidfd_open(PIDFD_THREAD) (Linux 6.9)"
    if not _probed:
        _probed.append(_probe())
    return _probed[0]


def _probe() -> str | None:
    sizes = (ctypes.c_uint16 * 3)()
    if _libc.syscall(NR["seccomp"], SECCOMP_GET_NOTIF_SIZES, 0, sizes) != 0:
        return "seccomp user notification (Linux 5.0)"
    if (sizes[0], sizes[1]) != (NOTIF_SIZE, RESP_SIZE):
        return f"seccomp notification sizes {sizes[0]}/{sizes[1]}, not {NOTIF_SIZE}/{RESP_SIZE}"
    allow = struct.pack("<HBBI", 0x06, 0, 0, 0x7FFF0000)  # ret ALLOW
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            buf = ctypes.create_string_buffer(allow, len(allow))
            prog = _SockFprog(1, ctypes.addressof(buf))
            _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            fd = _libc.syscall(
                NR["seccomp"], SECCOMP_SET_MODE_FILTER, LISTENER_FLAGS, ctypes.byref(prog)
            )
            code = 0 if fd >= 0 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return "a seccomp listener with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19)"
    return None
