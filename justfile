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

# the fd-semantics, blocking, signal, terminal, namespace and grading tests on the notify backend
test-notify:
    PTSANDBOX_BACKEND=notify {{py}} -m pytest -q -p no:cacheprovider tests/test_fd_semantics.py tests/test_fd_cache.py tests/test_pidfd_modes.py tests/test_vfs_release.py tests/test_chardev_fidelity.py tests/test_group_stop.py tests/test_terminal.py tests/test_mq.py tests/test_message_slot.py tests/test_mailbox.py tests/test_robustness.py tests/test_hangs.py tests/test_namespace.py tests/test_stdio.py tests/test_chat_timeline.py tests/test_kmod_run.py tests/test_mknod.py tests/test_grading.py tests/test_first_hour.py tests/test_record_replay.py tests/test_cli.py tests/test_chatroom_device.py tests/test_oracle_devices.py tests/test_examples.py tests/test_pytest_plugin.py tests/test_notify_backend.py

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
