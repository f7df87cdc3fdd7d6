"""Serving seccomp notifications from threads that wait in the kernel.

With SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6) a call's notification
wakes a thread waiting in SECCOMP_IOCTL_NOTIF_RECV *on the caller's CPU*, and
the answer wakes the caller on the server's: the two hand the CPU to each
other like a pinned pair, wherever the scheduler had put them. Through epoll
that wake-up is lost (epoll's callback wakes its waiter the ordinary way, often
on another, idle CPU), so with it each listener gets a thread of its own that
waits in RECV (`Supervisor._serve_listener`).

The supervisor stays single-threaded in effect. Its state is guarded by one
lock, the `LoopGate`: the loop's thread holds it except while it waits in
select(), so a listener thread serves a call only while the loop is idle,
exactly as the loop itself would have. What only the tracer thread can do
(a ptrace request: parking a call that must sleep, waking a parked thread)
is handed to the loop, which runs it, in the order handed, before anything
else when it wakes. The listener thread does not wait for it: the order is
all that matters. A park's call stays held (its wait is killable only) until
the loop parks it, and a wake handed after it comes after it, so it finds the
park begun and ends it (Tracer.interrupt's "not asleep yet" case).

Only plumbing here: no devices, no ptrace.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator

log = logging.getLogger("ptsandbox.loopgate")


class LoopGate:
    """The supervisor's lock, held by the loop's thread but while it waits."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()  # the creating thread runs the loop
        self.loop_thread = threading.get_ident()
        self._handed: deque[Callable[[], None]] = deque()
        # written to wake the loop's select(); the supervisor watches it
        self.poke_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._pokes_wanted = False  # the loop waits on a condition a served call may change
        self.closed = False

    def in_loop_thread(self) -> bool:
        return threading.get_ident() == self.loop_thread

    @contextlib.contextmanager
    def waiting(self, pokes: bool) -> Iterator[None]:
        """Around the loop's wait: listener threads may serve meanwhile. `pokes`:
        wake the loop after a served call (its caller waits on device state)."""
        self._pokes_wanted = pokes
        self.lock.release()
        try:
            yield
        finally:
            self.lock.acquire()
            self._pokes_wanted = False
        self.run_handed()

    @contextlib.contextmanager
    def opened(self) -> Iterator[None]:
        """The loop's thread lets listener threads in while it waits for them
        (closing: their threads end once their programs have)."""
        self.lock.release()
        try:
            yield
        finally:
            self.lock.acquire()

    def hand_to_loop(self, op: Callable[[], None]) -> None:
        """Have the loop's thread run `op`, after what was handed before (any
        thread; the loop is woken)."""
        self._handed.append(op)
        self.poke()

    def served(self) -> None:
        """A listener thread has served one call: wake the loop if it waits on a
        condition (it will run what the call handed over in any case)."""
        if self._pokes_wanted:
            self._pokes_wanted = False
            self.poke()

    def run_handed(self) -> None:
        """In the loop's thread, lock held: run what listener threads handed over."""
        while self._handed:
            op = self._handed.popleft()
            try:
                op()
            except Exception:
                log.exception("an operation handed to the loop failed")

    def poke(self) -> None:
        with contextlib.suppress(OSError):  # a full counter is awake enough
            os.eventfd_write(self.poke_fd, 1)

    def drain_pokes(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self.poke_fd)

    def close(self) -> None:
        """Loop thread, lock held: from now on listener threads serve nothing."""
        self.closed = True

    def release_fd(self) -> None:
        os.close(self.poke_fd)
