"""The test modules under ptsandbox against the same modules on the real kernel.

Every script of tests/oracle/ runs under `ptsandbox run --private --module
tests/kmod/MODULE` and must give what Linux 6.1 gave with the real .ko
(tests/oracle/MODULE/*.out: return values, errnos, bytes, the clients' output
and exit codes). Each one-bug variant must get its kernel report kind
(tests/oracle/VARIANT/expect) on the stderr of the run that triggered it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import oracle_support as oracle
import pytest


def _module_option_exists() -> bool:
    help_text = subprocess.run(
        [sys.executable, "-m", "ptsandbox", "run", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return "--module" in help_text


pytestmark = pytest.mark.skipif(
    not _module_option_exists(), reason="ptsandbox run --module is not available"
)


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return oracle.build_bin(tmp_path_factory.mktemp("oracle"))


def run_module(
    module_dir: str, module: str, script: str, bin_dir: Path, tmp: Path
) -> subprocess.CompletedProcess[str]:
    params = oracle.params(oracle.ORACLE / module / script)
    spec = ",".join([str(oracle.KMOD / module_dir), *(f"{k}={v}" for k, v in params.items())])
    env = dict(os.environ, BIN=str(bin_dir), TMPDIR=str(tmp))
    argv = [sys.executable, "-m", "ptsandbox", "run", "--private", "--module", spec, "--"]
    argv += ["sh", "-c", oracle.command(module, script, bin_dir)]
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=tmp, timeout=120, check=False
    )


@pytest.mark.parametrize(("module", "script"), list(oracle.cases()))
def test_module_in_ptsandbox_matches_the_real_kernel(
    module: str, script: str, bin_dir: Path, tmp_path: Path
) -> None:
    r = run_module(module, module, script, bin_dir, tmp_path)
    want = oracle.recorded(module, script)
    if script.endswith(".ks"):
        assert oracle.by_process(r.stdout) == oracle.by_process(want), r.stderr
    else:
        # the client scripts merge each client's stderr into their stdout
        assert r.stdout == want, r.stderr
    assert "BUG:" not in r.stderr and "WARNING:" not in r.stderr, r.stderr


@pytest.mark.parametrize("variant", oracle.variants())
def test_one_bug_variant_gets_its_kernel_report(
    variant: str, bin_dir: Path, tmp_path: Path
) -> None:
    base = oracle.base_of(variant)
    script = next(p.name for p in (oracle.ORACLE / variant).iterdir() if p.suffix in (".ks", ".sh"))
    r = run_module(variant, base, script, bin_dir, tmp_path)
    kinds = oracle.expected_reports(variant)
    seen = [k for k in kinds if reported(k, r)]
    assert seen, f"none of {kinds} in:\n{r.stdout}{r.stderr}"


def reported(kind: str, r: subprocess.CompletedProcess[str]) -> bool:
    if kind.startswith("stdout:"):
        return kind.removeprefix("stdout:") in r.stdout
    return kind in r.stderr
