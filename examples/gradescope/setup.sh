#!/usr/bin/env bash
# Gradescope autograder image setup: runs as root once, when the image is built.
# Upload this folder's setup.sh and run_autograder (zip them) as the autograder.
#
# Base image: choose Ubuntu 22.04 (20.04 works too). ptsandbox needs Python >= 3.11;
# those images ship 3.10 and 3.8, so this script installs uv with the image's own
# python3 (pip works there) and lets uv provide a managed CPython 3.11. On an image
# whose python already is >= 3.11 it uses that one and downloads no Python.
#
#   setup.sh             provision the image
#   setup.sh --dry-run   only say what it would run (nothing is installed)
#
# PTSANDBOX_SOURCE: what to install (default: a copy of this repository shipped
# in the autograder zip as ptsandbox/; or a pinned release, e.g. "ptsandbox==X.Y").
set -euo pipefail

VENV=/opt/ptsandbox
MANAGED=3.11  # the Python uv installs when the image has none recent enough
SOURCE="${PTSANDBOX_SOURCE:-/autograder/source/ptsandbox}"
export UV_PYTHON_INSTALL_DIR=/opt/uv-python  # beside the venv, not in root's home

DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; fi

run() {
    if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi
}

# The first interpreter on PATH that is Python >= 3.11, or nothing.
recent_python() {
    local name path
    for name in python3.13 python3.12 python3.11 python3; do
        path="$(command -v "$name" 2>/dev/null)" || continue
        if "$path" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

run apt-get update -q
run apt-get install -y -q gcc make git python3 python3-pip

if [ "$DRY" = 0 ] && ! command -v python3 >/dev/null; then
    echo "setup.sh: no python3 after apt-get install" >&2
    exit 1
fi
echo "image python: $(python3 --version 2>&1 || echo none)"

# uv from PyPI with the image's python (any python3 >= 3.8 can install it; on an
# image that marks its python externally managed, PEP 668, this one package may
# go beside the system's: older pips ignore the variable)
export PIP_BREAK_SYSTEM_PACKAGES=1
run python3 -m pip install -q --upgrade uv

if python="$(recent_python)"; then
    echo "using $python ($("$python" --version 2>&1)): recent enough, no download"
    run python3 -m uv venv --python "$python" "$VENV"
else
    echo "no Python >= 3.11 on this image: uv installs a managed CPython $MANAGED"
    run python3 -m uv python install "$MANAGED"
    run python3 -m uv venv --python "$MANAGED" --python-preference only-managed "$VENV"
fi
run python3 -m uv pip install -q --python "$VENV/bin/python" "$SOURCE"
run "$VENV/bin/ptsandbox" --help >/dev/null
if [ "$DRY" = 1 ]; then echo "(dry run: nothing installed)"; else echo "ptsandbox installed in $VENV"; fi
