"""A student's kernel module, compiled unmodified and hosted, serving the
unmodified clients; every report kind, worded as the kernel words it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from conftest import SLOWDOWN

from ptsandbox.api import Sandbox
from ptsandbox.devices.kmodule import KernelModule, module_class

KMOD = Path(__file__).parent / "c" / "kmod"


def sh(sb: Sandbox, script: str, timeout: float = 30) -> tuple[int, str]:
    p = sb.spawn(["sh", "-c", script])
    code = p.wait(timeout * SLOWDOWN)
    return code, p.output + p.stderr


def load(name: str, **params: str) -> KernelModule:
    cls = module_class(KMOD / name)
    cls.report_sink = lambda tgid, text: None  # tests read device.reports
    return cls(config=params)


def line_of(text: str, source: str = "bugs.c") -> str:
    """`bugs.c:N` for the line of the module's source holding `text`."""
    lines = (KMOD / source).read_text().splitlines()
    return f"{source}:{next(i for i, line in enumerate(lines, 1) if text in line)}"


def dmesg(sb: Sandbox) -> list[str]:
    return [line for _when, _dev, line in sb.sup.dmesg]


def test_message_slot_module_serves_the_unmodified_clients(cprog) -> None:
    send, read = cprog("message_sender"), cprog("message_reader")
    mod = load("slot")
    with Sandbox([mod]) as sb:
        code, out = sh(
            sb,
            f"mknod /dev/message_slot c 235 0 && {send} 0 'Hello zero' && {send} 3 Three"
            f" && {read} 0 && {read} 3 && {read} 1",
        )
        assert code == 0, out
        assert out.splitlines() == [
            "Sent 10 bytes to channel 0",
            "Sent 5 bytes to channel 3",
            "Hello zero",
            "Read 128 bytes from channel 0",
            "Three",
            "Read 128 bytes from channel 3",
            "",
            "Read 128 bytes from channel 1",
        ]
        code, out = sh(sb, f"{send} 4 nope")
        assert code == 1 and "Invalid argument" in out
        assert "message_slot: registered major 235" in dmesg(sb)
        assert "message_slot: open minor 0" in dmesg(sb)
    assert mod.reports == []  # a correct module gets no report, not even kmemleak


def test_module_param_is_set_at_load() -> None:
    mod = load("bugs.c", limit="12")
    with Sandbox([mod]) as sb:
        assert "bugs: limit=12" in dmesg(sb)


def test_blocking_read_is_woken_by_a_write_from_another_process(cprog) -> None:
    reader = cprog("kmod_pipe_reader")
    with Sandbox([load("pipe")]) as sb:
        r = sb.spawn([reader])
        r.wait_blocked()
        code, out = sh(sb, "printf 'wake up' > /dev/kpipe")
        assert code == 0, out
        assert r.wait() == 0
        assert r.output == "got: wake up\n"
        assert any(line.startswith("kpipe: kmod_pipe_read") for line in dmesg(sb))


def test_signal_interrupts_a_blocked_module_read_with_eintr(cprog) -> None:
    reader = cprog("kmod_pipe_reader")
    with Sandbox([load("pipe")]) as sb:
        r = sb.spawn([reader])
        r.wait_blocked()
        r.kill(signal.SIGUSR1)
        assert r.wait() == 2
        assert r.output == "read: Interrupted system call\n"


def test_sa_restart_resumes_the_module_read_after_the_handler(cprog) -> None:
    reader = cprog("kmod_pipe_reader")
    with Sandbox([load("pipe")]) as sb:
        r = sb.spawn([reader, "restart"])
        r.wait_blocked()
        r.kill(signal.SIGUSR1)
        r.wait_blocked()  # restarted: asleep in the module again
        sh(sb, "printf again > /dev/kpipe")
        assert r.wait() == 0
        assert r.output == "got: again\n"


def test_nonblocking_read_is_the_modules_decision() -> None:
    with Sandbox([load("pipe")]) as sb:
        code, out = sh(sb, "dd if=/dev/kpipe iflag=nonblock bs=16 count=1")
        assert code == 1 and "Resource temporarily unavailable" in out


# --------------------------------------------------------------------------
# one report per bug kind (tests/c/kmod/bugs.c: one bug per ioctl command)


def trigger(cprog, cmd: int, timeout: float = 30) -> tuple[int, str, KernelModule, Sandbox]:
    mod = load("bugs.c")
    sb = Sandbox([mod])
    p = sb.spawn([cprog("kmod_ioctl"), "/dev/bugs", str(cmd)])
    code = p.wait(timeout * SLOWDOWN)
    return code, p.output, mod, sb


@pytest.mark.parametrize(
    ("cmd", "title", "where"),
    [
        (1, "BUG: KASAN: slab-out-of-bounds in bugs_ioctl", "p[i] = 'x'"),
        (2, "BUG: KASAN: use-after-free in bugs_ioctl", "return head->value"),
        (3, "BUG: KASAN: double-free in bugs_ioctl", "kfree(p); /* again */"),
        (6, "BUG: sleeping function called from invalid context", "saved = kmalloc(32"),
        (8, "WARNING: bad unlock balance detected!", "mutex_unlock(&bugs_mutex)"),
    ],
    ids=["oob", "uaf", "double-free", "sleep-in-atomic", "bad-unlock"],
)
def test_report_names_the_bug_and_the_modules_line(cprog, cmd: int, title: str, where: str) -> None:
    code, out, mod, sb = trigger(cprog, cmd)
    with sb:
        assert code == 0, out  # these the kernel reports and goes on
        assert len(mod.reports) == 1, mod.reports
        report = mod.reports[0]
        assert title in report
        assert line_of(where) in report
        assert title in "\n".join(dmesg(sb))


def test_kasan_report_has_access_and_allocation_sites(cprog) -> None:
    _code, _out, mod, sb = trigger(cprog, 2)
    with sb:
        report = mod.reports[0]
        assert "Read of size 4 at addr" in report
        assert "by task kmod_ioctl" in report
        allocated = report.split("Allocated by task")[1]
        assert (
            line_of("kmalloc(sizeof(struct node), GFP_KERNEL); /* uaf */")
            in allocated.split("Freed by")[0]
        )
        assert line_of("kfree(head); /* uaf */") in report.split("Freed by task")[1]
        assert "The buggy address belongs to the object at" in report
        assert "which belongs to the cache kmalloc-16 of size 16" in report
        assert "The buggy address is located 0 bytes inside of" in report


@pytest.mark.parametrize(
    ("cmd", "title"),
    [
        (4, "BUG: kernel NULL pointer dereference, address: 0000000000000000"),
        (5, "BUG: unable to handle page fault for address: 00007"),
    ],
    ids=["null", "user-pointer"],
)
def test_oops_kills_the_caller_and_the_module_goes_on(cprog, cmd: int, title: str) -> None:
    code, out, mod, sb = trigger(cprog, cmd)
    with sb:
        assert code == -signal.SIGKILL or code == 128 + signal.SIGKILL or code == 137, (code, out)
        assert out == ""
        report = mod.reports[0]
        assert title in report
        assert "Oops:" in report
        assert "RIP: 0010:bugs_ioctl+" in report and "(bugs.c:" in report
        # other processes and the module go on
        p = sb.spawn([cprog("kmod_ioctl"), "/dev/bugs", "10"])
        assert p.wait() == 0
        assert p.output == "ioctl 10 returned 42\n"
        assert "D" in mod.snapshot()["tainted"]


def test_recursive_locking_is_reported_before_the_deadlock(cprog) -> None:
    mod = load("bugs.c")
    with Sandbox([mod]) as sb:
        p = sb.spawn([cprog("kmod_ioctl"), "/dev/bugs", "7"])
        assert sb.serve_until(lambda: bool(mod.reports), 30 * SLOWDOWN)
        assert "WARNING: possible recursive locking detected" in mod.reports[0]
        assert "bugs_lock" in mod.reports[0]
        assert line_of("spin_lock(&bugs_lock); /* twice */") in mod.reports[0]
        p.kill()  # it deadlocked, as in the kernel
        p.wait()


def test_uninterruptible_sleep_with_no_waker_is_a_hung_task(cprog) -> None:
    mod = load("bugs.c", hung_task_timeout_secs="1")
    with Sandbox([mod]) as sb:
        p = sb.spawn([cprog("kmod_ioctl"), "/dev/bugs", "11"])
        assert sb.serve_until(lambda: bool(mod.reports), 30 * SLOWDOWN)
        assert "INFO: task kmod_ioctl" in mod.reports[0]
        assert "blocked for more than 1 seconds." in mod.reports[0]
        p.kill()
        p.wait()


def test_kmemleak_at_unload_lists_the_allocation_site(cprog) -> None:
    code, _out, mod, sb = trigger(cprog, 9)
    with sb:
        assert code == 0
        assert mod.reports == []
    # the module is unloaded when the sandbox closes
    assert len(mod.reports) == 1
    leak = mod.reports[0]
    assert "kmemleak: 1 new suspected memory leaks" in leak
    assert "unreferenced object" in leak and "(size 48):" in leak
    assert 'comm "kmod_ioctl' in leak
    assert "bugs_ioctl+" in leak and line_of("saved = kmalloc(48") in leak


def test_correct_ioctl_copies_from_user(cprog) -> None:
    code, out, mod, sb = trigger(cprog, 10)
    with sb:
        assert code == 0
        assert out == "ioctl 10 returned 42\n"
        assert mod.reports == []


# --------------------------------------------------------------------------
# an open that sleeps in the module (tests/c/kmod/gate: a reader waits for a writer)


def test_an_open_that_sleeps_parks_and_the_others_are_served(cprog) -> None:
    reader = cprog("kmod_gate_reader")
    with Sandbox([load("gate")]) as sb:
        r = sb.spawn([reader])
        assert sb.serve_until(lambda: any("waits for a writer" in x for x in dmesg(sb)))
        r.wait_blocked()  # asleep in open, and the supervisor goes on serving
        code, out = sh(sb, "printf 'come in' > /dev/kgate", timeout=5)
        assert code == 0, out
        assert r.wait() == 0
        assert r.output == "got: come in\n"


def test_a_signal_ends_a_sleeping_open_with_eintr_or_restarts_it(cprog) -> None:
    reader = cprog("kmod_gate_reader")
    with Sandbox([load("gate")]) as sb:
        r = sb.spawn([reader])
        r.wait_blocked()
        r.kill(signal.SIGUSR1)
        assert r.wait() == 2
        assert r.output == "open: Interrupted system call\n"
        again = sb.spawn([reader, "restart"])
        again.wait_blocked()
        again.kill(signal.SIGUSR1)
        again.wait_blocked()  # restarted: asleep in the module's open again
        code, out = sh(sb, "printf again > /dev/kgate", timeout=5)
        assert code == 0, out
        assert again.wait() == 0 and again.output == "got: again\n"
