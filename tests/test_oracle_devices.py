"""The built-in devices against the real kernel: each script of tests/oracle/,
recorded on Linux 6.1 with the correct module of tests/kmod/, must give the
same results under ptsandbox with the built-in device of the same assignment
(same return values, errnos and bytes per call; same client output and exit).

Where the assignment text leaves a behaviour open and the two legitimately
differ, the script leaves it out (tests/oracle/README.md lists those points);
so every line recorded here is one the built-in device must reproduce.
"""

from __future__ import annotations

from pathlib import Path

import oracle_support as oracle
import pytest


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return oracle.build_bin(tmp_path_factory.mktemp("oracle"))


@pytest.mark.parametrize(("module", "script"), list(oracle.cases()))
def test_builtin_device_matches_the_real_kernel(
    module: str, script: str, bin_dir: Path, tmp_path: Path
) -> None:
    got = oracle.run_builtin(module, script, bin_dir, tmp_path)
    want = oracle.recorded(module, script)
    if script.endswith(".ks"):
        assert oracle.by_process(got) == oracle.by_process(want), oracle.difference(want, got)
    else:
        assert got == want


def test_every_shipped_module_has_recordings() -> None:
    for module in oracle.modules():
        assert (oracle.KMOD / module / "Makefile").is_file(), module
        for script in oracle.scripts(module):
            assert (script.parent / f"{script.name}.out").is_file(), script
            assert (script.parent / f"{script.name}.dmesg").is_file(), script
    for variant in oracle.variants():
        assert (oracle.KMOD / variant / "README").read_text().startswith("Bug: "), variant
        assert oracle.expected_reports(variant), variant
        assert oracle.base_of(variant) in oracle.modules(), variant


def test_module_headers_are_the_course_headers() -> None:
    """Each test module ships the course header its clients use (the same major and
    ioctl numbers), as a student submits it."""
    pairs = {
        "chatroom": oracle.CPROGS / "chatroom.h",
        "msgslot_seed": oracle.CPROGS / "message_slot.h",
        "msgslot_tau": oracle.CPROGS / "tau" / "message_slot.h",
        "mq": oracle.CPROGS / "mq.h",
    }
    for module_dir in oracle.KMOD.iterdir():
        if not module_dir.is_dir():
            continue
        base = max((m for m in pairs if module_dir.name.startswith(m)), key=len)
        course = pairs[base]
        assert (module_dir / course.name).read_text() == course.read_text(), module_dir
