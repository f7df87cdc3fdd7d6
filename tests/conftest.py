"""Shared fixtures: compiled C programs, a private sandbox, no process left behind."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from ptsandbox.api import Sandbox
from ptsandbox.cc import compile_c
from ptsandbox.devices.chatroom import Chatroom

ROOT = Path(__file__).resolve().parent.parent
CPROGS = ROOT / "cprogs"
TESTC = ROOT / "tests" / "c"

# Every bound on a wait in a test that starts Python processes is multiplied by this.
# 1 on real hardware; an emulated VM (../shared/tools/oldkernel/run61.sh, no KVM) starts
# each `python -m ptsandbox` in ~15-20 s instead of ~0.2 s, so its runs set
# PTSANDBOX_TEST_SLOWDOWN=10. Only bounds scale: what is waited for stays the same event.
SLOWDOWN = float(os.environ.get("PTSANDBOX_TEST_SLOWDOWN", "1"))

# Namespaces started by tests live here, never in the user's runtime directory.
_RUNTIME = tempfile.mkdtemp(prefix="ptsandbox-tests-")
os.environ["PTSANDBOX_RUNTIME_DIR"] = _RUNTIME
os.environ.setdefault("PTSANDBOX_IDLE_TIMEOUT", "1")
# compiled kernel modules are cached here, not in the user's cache
os.environ["PTSANDBOX_CACHE"] = os.path.join(_RUNTIME, "cache")


def namespace_supervisors(runtime: str = _RUNTIME) -> list[psutil.Process]:
    """Supervisors serving namespaces under a runtime directory."""
    found = []
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd = p.info["cmdline"] or []
            env = p.info["environ"] or {}
        except psutil.Error:
            continue
        if "daemon" in cmd and env.get("PTSANDBOX_RUNTIME_DIR") == runtime:
            found.append(p)
    return found


@pytest.fixture(scope="session", autouse=True)
def no_supervisor_left_at_the_end() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 15  # idle supervisors exit after PTSANDBOX_IDLE_TIMEOUT
    while namespace_supervisors() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = namespace_supervisors()
    for p in left:
        p.kill()
    shutil.rmtree(_RUNTIME, ignore_errors=True)
    assert not left, f"namespace supervisors left running: {[p.pid for p in left]}"


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def cprog(build_dir: Path) -> Callable[..., str]:
    """cprog("joinchat") -> path of cprogs/joinchat.c (or tests/c/NAME.c) built with gcc."""

    def build(name: str, static: bool = False, defines: tuple[str, ...] = ()) -> str:
        src = CPROGS / f"{name}.c"
        if not src.exists():
            src = TESTC / f"{name}.c"
        flags = ["-Wall", "-O2", "-pthread", f"-I{CPROGS}"]
        flags += ["-static"] if static else []
        flags += [f"-D{d}" for d in defines]
        suffix = ("-static" if static else "") + "".join(f"-{d}" for d in defines)
        exe_name = name.replace("/", "_") + suffix
        return str(compile_c([src], name=exe_name, flags=flags, out_dir=build_dir))

    return build


@pytest.fixture(params=["emulated", "pushed"])
def both_read_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test runs twice: chat reads emulated, then pushed (PTSANDBOX_READS
    forces the path even in a recording Sandbox, whose trace then lacks the
    pushed reads). For the suites whose semantics must not change with it."""
    monkeypatch.setenv("PTSANDBOX_READS", request.param)
    return str(request.param)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox([Chatroom()]) as sb:
        yield sb


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Every test must end every process it started (supervisors, clients)."""
    yield
    me = psutil.Process(os.getpid())
    left = [p for p in me.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    for p in left:
        p.kill()
    assert not left, f"processes left behind: {[(p.pid, p.name()) for p in left]}"
