"""The record kfifo of the kernel API stand-in against a model of its documented
semantics: a record goes in whole (1-byte length header) or not at all; a read
takes the oldest record whole, cut to the reader's buffer; kfifo_len counts
headers. Driven through a module by a client, on random scripts."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptsandbox.api import Sandbox
from ptsandbox.devices.kmodule import KernelModule, module_class

KMOD = Path(__file__).parent / "c" / "kmod"
SIZE = 64  # kfifo_alloc(&fifo, 64): a power of two already


def model(script: list[tuple[str, int]]) -> list[str]:
    records: deque[str] = deque()
    used = 0
    letter = 0
    out = []
    for op, n in script:
        if op == "w":
            data = "".join(chr(ord("a") + (letter + i) % 26) for i in range(n))
            letter += n
            ok = n + 1 <= SIZE - used
            if ok:
                records.append(data)
                used += n + 1
            out.append(f"w {n} -> {n if ok else 0} used {used}")
        else:
            got = ""
            if records:  # the whole record leaves, the reader gets what fits
                rec = records.popleft()
                used -= len(rec) + 1
                got = rec[:n]
            out.append(f"r {n} -> {len(got)} [{got}] used {used}")
    return out


ops = st.lists(
    st.tuples(st.sampled_from(["w", "r"]), st.integers(min_value=1, max_value=40)),
    min_size=1,
    max_size=25,
)


@pytest.fixture(scope="module")
def fifo() -> Iterator[tuple[Sandbox, KernelModule]]:
    cls = module_class(KMOD / "recfifo.c")
    cls.report_sink = lambda tgid, text: None
    mod = cls(config={})
    with Sandbox([mod]) as sb:
        yield sb, mod
    assert mod.reports == []  # not even a leak at unload


@pytest.mark.timeout(300)
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=ops)
def test_record_fifo_matches_its_model(fifo, cprog, script: list[tuple[str, int]]) -> None:
    sb, mod = fifo
    text = "".join(f"{op} {n}\n" for op, n in script).encode()
    p = sb.spawn([cprog("kmod_fifo_script")], stdin=text)
    assert p.wait(30) == 0, p.stderr
    assert p.output.splitlines() == model(script)
    assert mod.reports == []
