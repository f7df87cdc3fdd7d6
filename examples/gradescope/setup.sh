#!/usr/bin/env bash
# Gradescope autograder image setup: Ubuntu base, runs as root once at build time.
# Upload this folder's setup.sh and run_autograder (zip them) as the autograder.
set -euo pipefail
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip gcc make git
python3 -m venv /opt/ptsandbox
# a pinned release or a copy of this repository shipped in the autograder zip:
/opt/ptsandbox/bin/pip install -q "${PTSANDBOX_SOURCE:-/autograder/source/ptsandbox}"
