"""examples/gradescope/setup.sh picks a Python >= 3.11 on Gradescope's base images.

Its decision is tested here with the old interpreters of those images (pyenv's
3.8 and 3.10 stand for Ubuntu 20.04's and 22.04's python3) in --dry-run mode,
which runs the probes but installs and downloads nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "examples/gradescope/setup.sh"
PYENV = Path.home() / ".pyenv/versions"


def _python(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no Python {version} under {PYENV}")
    return found[-1]


def _dry_run(tmp_path: Path, **pythons: str) -> str:
    """setup.sh --dry-run with only these interpreters on PATH (name -> version)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, version in pythons.items():
        (bin_dir / name).symlink_to(_python(version))
    r = subprocess.run(
        ["/bin/bash", str(SETUP), "--dry-run"],
        capture_output=True, text=True, timeout=60, env={"PATH": str(bin_dir)},
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.parametrize("old", ["3.8", "3.10"], ids=["ubuntu20.04", "ubuntu22.04"])
def test_an_old_image_python_gets_a_managed_3_11_through_uv(tmp_path: Path, old: str) -> None:
    out = _dry_run(tmp_path, python3=old)
    assert f"image python: Python {old}." in out
    assert "+ python3 -m pip install -q --upgrade uv" in out  # with the old python
    assert "+ python3 -m uv python install 3.11" in out
    managed = "--python 3.11 --python-preference only-managed /opt/ptsandbox"
    assert f"+ python3 -m uv venv {managed}" in out
    assert "/opt/ptsandbox/bin/python" in out


def test_a_recent_python_on_the_image_is_used_without_a_download(tmp_path: Path) -> None:
    out = _dry_run(tmp_path, python3="3.8", **{"python3.11": "3.11"})
    assert "python install" not in out
    assert f"+ python3 -m uv venv --python {tmp_path}/bin/python3.11 /opt/ptsandbox" in out


def test_the_script_says_which_base_image_to_choose() -> None:
    head = SETUP.read_text().split("set -euo pipefail")[0]
    assert "Base image: choose Ubuntu 22.04" in head
