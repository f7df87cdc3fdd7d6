"""The supervisor's event loop: callbacks that change what it watches."""

from __future__ import annotations

import os

from ptsandbox.supervisor import Supervisor


def test_a_callback_that_closes_another_watched_fd_does_not_crash_the_loop() -> None:
    """Two fds ready in the same wake-up; whichever callback runs first stops
    watching the other and closes it (as a program's output drained to its end
    by a trace hook is). The loop must not call the stale one (os.read on a
    closed fd was CI's EBADF), nor hand it an fd number reused meanwhile."""
    sup = Supervisor()
    pipes = [os.pipe() for _ in range(2)]
    calls: list[int] = []
    try:
        readers = [r for r, _ in pipes]

        def on_readable(fd: int) -> None:
            os.read(fd, 16)  # EBADF if fd was closed under us
            calls.append(fd)
            for other in readers:
                if other != fd and other >= 0:
                    sup.remove_reader(other)
                    os.close(other)
                    readers[readers.index(other)] = -1
                    reused_r, reused_w = os.pipe()  # likely takes the closed number
                    pipes.append((reused_r, reused_w))

        for r, w in pipes:
            sup.add_reader(r, on_readable)
            os.write(w, b"x")
        sup.step(1.0)
        assert len(calls) == 1, calls
    finally:
        for r, w in pipes[2:]:
            os.close(r)
            os.close(w)
        for fd in readers:
            if fd >= 0:
                sup.remove_reader(fd)
                os.close(fd)
        for _, w in pipes[:2]:
            os.close(w)
        sup.close()
