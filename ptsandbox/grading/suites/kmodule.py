"""What the module scenarios of every suite share (the student's own kernel
module, loaded in place of the reference device; see docs/grading.md).

The runner loads the module (insmod), runs the scenario, then unloads it
(rmmod: every file must be closed, and kmemleak scans); any report the module
made (KASAN, Oops, lockdep, kmemleak ...) fails the scenario and is its
message. What is here: the robustness probe (ptsandbox/grading/probes/
kmod_probe.c, built with the reference clients) and the scenario that loads
and unloads the module with nothing ever open.
"""

from __future__ import annotations

from ...api import Proc
from ..context import ScenarioContext

PROBE = "kmod_probe"


def probe(ctx: ScenarioContext, what: str, *args: str, timeout: float = 20) -> Proc:
    """Run the probe; it must end by itself with status 0 (every line fine)."""
    p = ctx.spawn(PROBE, *args, stdio="pipe")
    code = ctx.wait(p, timeout=timeout, why=what)
    if code != 0:
        bad = [line for line in p.output.splitlines() if line.startswith("FAIL")]
        printed = "\n    ".join(p.output.strip()[-1500:].splitlines())
        ctx.fail(
            f"{what}: "
            + ("; ".join(line.removeprefix("FAIL ") for line in bad[:5]) or f"exited {code}")
            + f"\n  the probe printed:\n    {printed}",
            p,
        )
    return p


def rmmod_with_nothing_open(ctx: ScenarioContext) -> None:
    """insmod, then rmmod with nothing ever open: init and exit leave no report."""
    module = ctx.module
    assert module is not None
    ctx.check(
        bool(module.major_number or module.node_paths()),
        f"module {module.name} registered no device at init "
        "(no register_chrdev, misc_register or device_create)",
    )
