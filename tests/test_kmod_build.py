"""Building a module: isolated from the C library as under kbuild, kbuild folders,
the cache, and what a user sees when it does not build or does not load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ptsandbox.api import Sandbox
from ptsandbox.devices.base import ParamError
from ptsandbox.devices.kmodule import module_class
from ptsandbox.kmod.build import BuildError, build, parse_kbuild

KMOD = Path(__file__).parent / "c" / "kmod"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ptsandbox", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LC_ALL": "C"},  # gcc's plain quotes
    )


def test_calling_the_c_library_fails_with_gccs_diagnostics_and_one_line() -> None:
    res = cli("run", "--private", "--module", str(KMOD / "broken.c"), "--", "true")
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert "broken.c:8:9: error: implicit declaration of function 'printf'" in res.stderr
    assert "implicit declaration of function 'strtok'" in res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last == "ptsandbox: broken: module does not compile (gcc exit 1)"


def test_a_c_library_header_is_not_there(tmp_path: Path) -> None:
    src = tmp_path / "uses_stdio.c"
    src.write_text('#include <linux/module.h>\n#include <stdio.h>\nMODULE_LICENSE("GPL");\n')
    with pytest.raises(BuildError) as e:
        build(src)
    assert "fatal error: stdio.h: No such file or directory" in e.value.diagnostics


def test_kbuild_folder_with_several_objects(tmp_path: Path) -> None:
    makefile = "obj-m := twofiles.o\ntwofiles-objs := main.o \\\n\thelper.o\n"
    (tmp_path / "Makefile").write_text(makefile + "\nall:\n\tmake -C k M=$(PWD)\n")
    (tmp_path / "helper.h").write_text("int answer(int x);\n")
    (tmp_path / "helper.c").write_text('#include "helper.h"\nint answer(int x) { return x * 2; }\n')
    (tmp_path / "main.c").write_text(
        '#include <linux/module.h>\n#include <linux/kernel.h>\n#include "helper.h"\n'
        'MODULE_LICENSE("GPL");\n'
        'int init_module(void) { printk(KERN_INFO "answer %d\\n", answer(21)); return 0; }\n'
        "void cleanup_module(void) { }\n"
    )
    mod = module_class(tmp_path)(config={})
    assert mod.name == "twofiles"
    with Sandbox([mod]) as sb:
        assert "answer 42" in [line for _, _, line in sb.sup.dmesg]


def test_build_is_cached_by_content(tmp_path: Path) -> None:
    src = tmp_path / "tiny.c"
    src.write_text('#include <linux/module.h>\nMODULE_LICENSE("GPL");\n')
    first = build(src)
    assert build(src).cached and build(src).binary == first.binary
    src.write_text('#include <linux/module.h>\nMODULE_LICENSE("GPL");\nMODULE_AUTHOR("me");\n')
    assert not build(src).cached


def test_failing_init_is_a_failed_insmod_with_its_errno(tmp_path: Path) -> None:
    src = tmp_path / "nodev.c"
    src.write_text(
        '#include <linux/module.h>\n#include <linux/errno.h>\nMODULE_LICENSE("GPL");\n'
        "static int __init nodev_init(void) { return -ENODEV; }\nmodule_init(nodev_init);\n"
    )
    with pytest.raises(ParamError, match="could not insert module nodev: No such device"):
        module_class(src)(config={})
    res = cli("run", "--private", "--module", str(src), "--", "true")
    assert res.returncode == 2
    assert res.stderr.strip() == "ptsandbox: nodev: could not insert module nodev: No such device"


def test_parse_kbuild_forms() -> None:
    assert parse_kbuild("obj-m := chat.o\n") == ("chat", [])
    assert parse_kbuild("obj-m += mq.o\nmq-y := a.o b.o\n") == ("mq", ["a.o", "b.o"])
    assert parse_kbuild("# nothing\nall:\n\tmake\n") == (None, [])


def test_insmod_lsmod_rmmod_dmesg_in_a_namespace(tmp_path: Path, cprog) -> None:
    from test_namespace import Namespace

    ns = Namespace(tmp_path / "rt")
    ns.env["LC_ALL"] = "C"
    try:
        r = ns.cli("insmod", str(KMOD / "bugs.c"), "limit=5")
        assert r.returncode == 0 and "bugs: loaded (major 10)" in r.stdout, r.stderr
        assert "bugs" in ns.cli("lsmod").stdout
        r = ns.cli("run", cprog("kmod_ioctl"), "/dev/bugs", "10")
        assert r.stdout == "ioctl 10 returned 42\n", r.stderr
        oops = ns.cli("run", cprog("kmod_ioctl"), "/dev/bugs", "4")  # NULL dereference
        assert oops.returncode == 137
        assert "BUG: kernel NULL pointer dereference" in oops.stderr  # the run's own stderr
        assert "bugs: bugs: limit=5" in ns.cli("dmesg").stdout
        assert ns.cli("rmmod", "bugs").returncode == 0
        bad = ns.cli("insmod", str(KMOD / "broken.c"))
        assert bad.returncode != 0 and "Traceback" not in bad.stderr
        assert "error: implicit declaration of function 'printf'" in bad.stderr
        assert bad.stderr.strip().splitlines()[-1].startswith("ptsandbox: ")
    finally:
        ns.cli("stop")
        assert ns.wait_until(lambda: not ns.daemons()), "a namespace supervisor was left"
