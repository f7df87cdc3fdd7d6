"""The torture suite at the CI scale (about 30 s): every item of
torture_suite.py, small. `just torture` runs the same items at full scale."""

from __future__ import annotations

import pytest
from torture_suite import CI, HOSTILE, NEEDS_TRACER_FIX, Programs, chat_block, chat_drop_newest
from torture_suite import fuzz as fuzz_item
from torture_suite import hostile as hostile_item
from torture_suite import kills as kill_item


@pytest.fixture(scope="module")
def progs(tmp_path_factory: pytest.TempPathFactory) -> Programs:
    return Programs(tmp_path_factory.mktemp("torture"))


def test_many_clients_with_full_block_lose_duplicate_mix_and_reorder_nothing(progs) -> None:
    figures = chat_block(progs, CI)
    assert figures["deliveries"] == CI.clients * (CI.clients - 1) * CI.messages


def test_with_drop_newest_what_clients_miss_is_what_the_device_counts(progs) -> None:
    figures = chat_drop_newest(progs, CI)
    assert figures["client_side_loss"] == figures["device_dropped"]


@pytest.mark.parametrize("kind", ["read", "write", "spin"])
def test_sigkill_mid_call_releases_once_and_the_others_chat_on(progs, kind: str) -> None:
    assert kill_item(progs, CI, kind)["trials"] == CI.kill_trials


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(
            m,
            marks=pytest.mark.skip(reason="needs the tracer fixes of issue 14 section 1"),
        )
        if m in NEEDS_TRACER_FIX
        else m
        for m in HOSTILE
    ],
)
def test_a_hostile_program_leaves_the_supervisor_serving(progs, mode: str) -> None:
    assert hostile_item(progs, CI, mode)["rounds"] == CI.hostile_rounds


def test_syscall_fuzz_gives_only_kernel_errnos_and_the_namespace_lives_on(progs) -> None:
    figures = fuzz_item(progs, CI)
    assert figures["bad"] == 0 and figures["calls"] > 0
