"""Kernel-exact file semantics for virtual fds, checked with small C programs."""

from __future__ import annotations

import pytest

from ptsandbox.api import Proc, Sandbox

# the same semantics whether the device pushes its messages or reads are emulated
pytestmark = pytest.mark.usefixtures("both_read_paths")


def watcher(sb: Sandbox, cprog, name: str = "W") -> Proc:
    w = sb.spawn([cprog("joinchat"), name])
    w.expect(f"You joined as {name}\n")
    return w


def bye(*procs: Proc) -> None:
    for p in procs:
        p.sendline("Bye!")
        p.wait()


def test_fork_child_inherits_and_member_leaves_after_both_close(sandbox: Sandbox, cprog) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("forkshare")])
    p.expect("child closed\n")
    p.expect("parent waiting\n")
    w.expect("FS joined the room\n")
    w.expect("FS: from child\n")
    p.sendline("go")
    p.expect("parent closed\n")
    assert p.wait() == 0
    # the parent's message comes before the leave: the child's close did not release
    w.expect("FS: from parent\n")
    w.expect("FS left\n")
    assert w.output.count("FS left") == 1
    bye(w)


def test_dup2_and_fdupfd_cloexec_share_the_member(sandbox: Sandbox, cprog) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("dupshare")])
    p.expect_exact_lines(["dup2: ok", "dupfd: 20", "cloexec: 1", "closed 10"])
    w.expect_exact_lines(["DS joined the room", "DS: via dup2", "DS: via dupfd"])
    p.sendline("go")
    assert p.wait() == 0
    w.expect_exact_lines(["DS: still open", "DS left"])
    bye(w)


def test_exec_with_cloexec_releases(sandbox: Sandbox, cprog) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("execcloexec"), "cloexec"])
    p.expect("exec\n")
    w.expect_exact_lines(["EX joined the room", "EX: before exec", "EX left"])
    p.sendline("go")
    p.expect("after-exec\n")
    assert p.wait() == 0
    bye(w)


def test_exec_without_cloexec_keeps_the_member(sandbox: Sandbox, cprog) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("execcloexec"), "keep"])
    p.expect("exec\n")
    w.expect_exact_lines(["EX joined the room", "EX: before exec"])
    # the shell is running and still holds the fd: a message from another member
    # reaches the watcher before any leave notice
    other = watcher(sandbox, cprog, "O")
    other.sendline("ping")
    w.expect("O: ping\n")
    assert "EX left" not in w.output
    p.sendline("go")
    assert p.wait() == 0
    w.expect("EX left\n")
    bye(w, other)


def test_fd_passed_over_unix_socket_works(sandbox: Sandbox, cprog) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("scmrights")])
    w.expect_exact_lines(["SC joined the room", "SC: via scm"])
    w.sendline("to the child")
    p.expect("child: W: to the child\n")
    assert p.wait() == 0
    w.expect("SC left\n")
    bye(w)


EXPECTED_FDOPS = {
    "fstat": "chr 240:0",
    "stat": "chr 240:0",
    "statx": "chr 240:0",
    "access": "0",
    "faccessat2": "0",
    "lseek": "-1 ESPIPE",
    "pread": "-1 ESPIPE",
    "mmap": "-1 ENODEV",
    "sendfile_from": "-1 EINVAL",
    "splice": "-1 EINVAL",
    "copy_file_range": "-1 EINVAL",
    "recv": "-1 ENOTSOCK",
    "fsync": "-1 EINVAL",
    "ftruncate": "-1 EINVAL",
    "getdents64": "-1 ENOTDIR",
    "read_wronly": "-1 EBADF",
    "write_rdonly": "-1 EBADF",
    "open_directory": "-1 ENOTDIR",
    "open_excl": "-1 EEXIST",
    "open_below": "-1 ENOTDIR",
    "close_range": "0",
    "write_after_close_range": "-1 EBADF",
}


def test_every_fd_call_gets_the_char_device_answer(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("fdops")])
    assert p.wait() == 0, p.output + p.stderr
    got = dict(line.split(": ", 1) for line in p.lines() if ": " in line)
    assert got == EXPECTED_FDOPS


def test_nonblocking_read_of_empty_queue_is_eagain(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("nonblock")])
    assert p.wait() == 0
    assert p.lines() == [
        "read: -1 EAGAIN",
        "getfl_nonblock: 1",
        "getfl_nonblock: 0",
        "fionbio: 0",
        "getfl_nonblock: 1",
        "read_fionbio: -1 EAGAIN",
        "getfl_accmode: RDWR",
        "getfl_accmode: RDONLY",
        "done",
    ]


@pytest.mark.parametrize("api", ["poll", "select", "epoll"])
def test_readiness_wakes_on_the_right_fd(sandbox: Sandbox, cprog, api: str) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("pollmix"), api, "3"])
    p.expect("ready\n")
    w.expect("PM joined the room\n")
    w.sendline("to dev")
    p.expect_exact_lines(["ready: dev", "dev: W: to dev"])
    p.sendline("on stdin")
    p.expect_exact_lines(["ready: stdin", "stdin: on stdin"])
    w.sendline("again")
    p.expect_exact_lines(["ready: dev", "dev: W: again"])
    assert p.wait() == 0
    bye(w)


def test_signal_without_sa_restart_interrupts_read_with_eintr(sandbox: Sandbox, cprog) -> None:
    p = sandbox.spawn([cprog("sigread"), "norestart"])
    p.expect("ready\n")
    p.expect("handler\n")
    p.expect_exact_lines(["read: -1 EINTR", "done"])
    assert p.wait() == 0


def test_signal_with_sa_restart_resumes_read(sandbox: Sandbox, cprog) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("sigread"), "restart"])
    p.expect("ready\n")
    w.expect("SR joined the room\n")
    p.expect("handler\n")
    p.wait_blocked()  # back to sleep in the same read
    w.sendline("after the signal")
    p.expect_exact_lines(["read: 19 W: after the signal", "done"])
    assert p.wait() == 0
    bye(w)


def test_a_blocked_read_parks_only_its_thread(sandbox: Sandbox, cprog) -> None:
    w = watcher(sandbox, cprog)
    p = sandbox.spawn([cprog("threads")])
    p.expect_exact_lines([f"main: tick {i}" for i in range(1, 6)] + ["ticks done"])
    w.expect("TH joined the room\n")
    w.sendline("wake up")
    p.expect_exact_lines(["reader: W: wake up", "done"])
    assert p.wait() == 0
    bye(w)
