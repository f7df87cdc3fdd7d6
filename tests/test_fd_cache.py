"""The syscall layer's (process, fd) -> file cache is exact: a device fd number
that comes to name something else (a pipe here) is never served as the device,
whichever way it was replaced (see tests/c/fdreuse.c)."""

from __future__ import annotations

import pytest

from ptsandbox.api import Sandbox


@pytest.mark.parametrize(
    "how", ["close", "dup2", "dup3", "close_range", "exec", "thread", "clonefiles"]
)
def test_a_replaced_device_number_reads_what_it_names_now(
    sandbox: Sandbox, cprog, how: str
) -> None:
    # static: the dynamic loader of the exec'd program would open and close
    # the freed number itself before main
    p = sandbox.spawn([cprog("fdreuse", static=how == "exec"), how])
    assert p.wait(30) == 0, p.stderr
    assert p.output == "reread: 1 x\n"


def test_a_forked_child_replacing_the_number_leaves_the_parents_device(
    sandbox: Sandbox, cprog
) -> None:
    p = sandbox.spawn([cprog("fdreuse"), "fork"])
    assert p.wait(30) == 0, p.stderr
    assert p.output == "reread: 1 x\nparent ioctl: 0\n"
