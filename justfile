# ptsandbox tasks. `just --list` shows them.
set shell := ["bash", "-euo", "pipefail", "-c"]

py := if path_exists(".venv/bin/python") == "true" { ".venv/bin/python" } else { "python3" }

# install into .venv with the dev extras
install:
    test -x .venv/bin/python || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'

# lint, type-check and run the whole test suite (exit code 5 = no tests collected is a failure)
test: lint
    {{py}} -m pytest -q -p no:cacheprovider tests bench/test_bench_smoke.py

# ruff (lint + format check) and mypy
lint:
    {{py}} -m ruff check ptsandbox tests bench examples
    {{py}} -m ruff format --check ptsandbox tests bench examples
    {{py}} -m mypy

# the chat room of the assignment text, three clients under one supervisor
demo:
    {{py}} -m ptsandbox demo chatroom

# benchmarks against same-run baselines (not part of CI)
bench:
    {{py}} bench/run.py

# the torture suite at full scale, seeded, with its figures (not part of CI; about 15 min)
torture *ARGS:
    {{py}} tests/torture/run.py {{ARGS}}

# re-record what the real Linux 6.1 kernel does with tests/kmod/ (boots a VM once, ~4-5 min; not in CI)
record-oracle *ARGS:
    tests/oracle/record.sh {{ARGS}}
