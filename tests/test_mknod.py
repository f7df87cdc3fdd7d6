"""mknod inside the sandbox never makes anything on the host: every device node
is virtual, whatever its major; one no sandbox driver claims opens the host's
own device of that number (1:3 is /dev/null) or gives ENXIO; a real node a
real module once left at the path is shadowed, for programs and `ptsandbox mknod`."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from test_namespace import Namespace

from ptsandbox.api import Sandbox
from ptsandbox.devices.message_slot import MessageSlot

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making a host device node needs root")


def sh(sb: Sandbox, script: str) -> tuple[int, str]:
    p = sb.spawn(["sh", "-c", script])
    code = p.wait(30)
    return code, p.output + p.stderr


def host_node(path: Path, major: int, minor: int = 0) -> None:
    """A real char device node, as a real module's mknod leaves one (only in tmp_path)."""
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))


def test_a_major_no_driver_claims_is_a_virtual_node_that_gives_enxio(cprog, tmp_path) -> None:
    node = tmp_path / "slot"
    with Sandbox([MessageSlot(config={"major": "245"})]) as sb:
        code, out = sh(sb, f"mknod {node} c 235 0 && test -c {node} && {cprog('devopen')} {node}")
        assert "open: ENXIO" in out, out
        assert code == 1
        assert not os.path.lexists(node)  # nothing on the host, even while it runs


def test_a_node_naming_a_host_device_opens_that_device(cprog, tmp_path) -> None:
    null, zero = tmp_path / "mynull", tmp_path / "myzero"
    with Sandbox([MessageSlot()]) as sb:
        code, out = sh(
            sb, f"mknod {null} c 1 3 && mknod {zero} c 1 5 && {cprog('devopen')} {null}"
            f" && {cprog('devopen')} {zero}",
        )  # fmt: skip
        assert code == 0, out
        assert out.splitlines() == ["read 0: 9 9 9 9", "write 2", "read 4: 0 0 0 0", "write 2"]
    assert not os.path.lexists(null) and not os.path.lexists(zero)


def test_block_nodes_are_virtual_too(tmp_path) -> None:
    node = tmp_path / "disk"
    with Sandbox([MessageSlot()]) as sb:
        code, out = sh(sb, f"mknod {node} b 250 0 && test -b {node}")
        assert code == 0, out
    assert not os.path.lexists(node)


@needs_root
def test_a_real_node_already_there_is_shadowed(cprog, tmp_path) -> None:
    node = tmp_path / "message_slot"
    host_node(node, 240)  # a real module's node, of another major than the course's
    send, read = cprog("tau/message_sender"), cprog("tau/message_reader")
    with Sandbox([MessageSlot(config={"profile": "tau"})]) as sb:
        code, out = sh(sb, f"mknod {node} c 235 0 && {send} {node} 7 shadowed && {read} {node} 7")
        assert (code, out) == (0, "shadowed"), out
        # the sandbox's node stays: a second mknod is refused as Linux would
        assert sh(sb, f"mknod {node} c 235 0")[0] != 0
    assert os.lstat(node).st_rdev == os.makedev(240, 0)  # the host's node is untouched


def test_a_regular_file_is_not_shadowed(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with Sandbox([MessageSlot()]) as sb:
        code, out = sh(sb, f"mknod {path} c 235 0")
        assert code != 0 and "File exists" in out
    assert path.read_text() == "mine"


@needs_root
def test_ptsandbox_mknod_over_a_real_node_and_of_an_unclaimed_major(tmp_path, cprog) -> None:
    ns = Namespace(tmp_path / "runtime")
    try:
        node, other = tmp_path / "message_slot", tmp_path / "other"
        host_node(node, 235)
        r = ns.cli("mknod", str(node), "c", "235", "0")
        assert r.returncode == 0 and "message_slot" in r.stdout, r.stderr
        r = ns.cli("mknod", str(other), "c", "200", "0")
        assert r.returncode == 0 and "ENXIO" in r.stdout, r.stderr
        r = ns.cli("run", cprog("devopen"), str(other))
        assert "open: ENXIO" in r.stdout
        r = ns.cli("run", cprog("tau/message_sender"), str(node), "3", "over it")
        assert r.returncode == 0, r.stderr
        assert not os.path.lexists(other)
        assert os.lstat(node).st_rdev == os.makedev(235, 0)
    finally:
        assert ns.cli("stop").returncode == 0


# A private /dev (a tmpfs in a mount namespace of its own) with a real
# /dev/message_slot in it, as on a machine where the real module was once loaded.
PRIVATE_DEV = """
set -e
mount --make-rprivate /
mkdir -p "$OLD" && mount --rbind /dev "$OLD"
mount -t tmpfs none /dev
for n in null zero full random urandom tty; do cp -a "$OLD/$n" /dev/; done
mkdir /dev/pts /dev/shm && mount --rbind "$OLD/pts" /dev/pts && ln -s pts/ptmx /dev/ptmx
mknod /dev/message_slot c 235 0
"""


@needs_root
@pytest.mark.skipif(
    os.system("unshare -m true 2>/dev/null") != 0, reason="no mount namespaces here"
)
def test_demo_and_grading_work_over_a_real_dev_message_slot(tmp_path) -> None:
    import subprocess
    import sys

    had_node = os.path.lexists("/dev/message_slot")
    root = Path(__file__).resolve().parent.parent
    good = root / "tests/fixtures/submissions/message-slot/good"
    script = PRIVATE_DEV + (
        f"{sys.executable} -m ptsandbox demo message-slot\n"
        f"{sys.executable} -m ptsandbox grade {good} -a message-slot --part client\n"
        'test "$(stat -c %t:%T /dev/message_slot)" = eb:0\n'  # still the real node
    )
    env = dict(os.environ, OLD=str(tmp_path / "olddev"), PYTHONPATH=str(root))
    env.update(PTSANDBOX_RUNTIME_DIR=str(tmp_path / "rt"), PTSANDBOX_GRADE_TIME_SCALE="0.5")
    r = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Traceback" not in r.stdout + r.stderr
    assert "Hello on channel zero" in r.stdout and "# the slot now holds" in r.stdout
    assert re.search(r"(\d+)/\1\b", r.stdout), r.stdout[-1500:]  # full marks
    assert os.path.lexists("/dev/message_slot") == had_node  # the host's /dev is untouched
