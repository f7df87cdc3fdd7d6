"""The course variants in examples/, written from docs/devices.md alone, each run
with a student-style C client under the real supervisor."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from ptsandbox.api import Sandbox
from ptsandbox.devices import resolve

ROOT = Path(__file__).resolve().parent.parent


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", ROOT / "examples" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_message_slot_2017_keys_slots_by_minor_and_takes_the_channel_by_value(
    cprog, tmp_path: Path
) -> None:
    client = cprog("slot2017")
    a, b, c = (str(tmp_path / n) for n in ("slot1", "slot1b", "slot2"))
    with Sandbox([example("message_slot_2017").MessageSlot2017()]) as sb:
        made = sb.spawn(
            ["sh", "-c", f"mknod {a} c 244 1 && mknod {b} c 244 1 && mknod {c} c 244 2"]
        )
        assert made.wait() == 0, made.stderr
        assert sb.spawn([client, a, "2", "hi there"]).wait() == 0
        same_minor = sb.spawn([client, b, "2"])
        assert same_minor.wait() == 0 and same_minor.output == "hi there\n"
        other_minor = sb.spawn([client, c, "2"])
        assert other_minor.wait() == 255
        assert "Resource temporarily unavailable" in other_minor.stderr
        bad = sb.spawn([client, a, "4"])
        assert bad.wait() == 255 and "Invalid argument" in bad.stderr
        ioctls = [e.args for e in sb.trace if e.syscall == "ioctl"]
        assert ioctls[0].endswith("MSG_SLOT_CHANNEL, 2")  # by value: the channel itself
        assert sb.devices["message_slot"].snapshot() == {"slots": {"1": [0, 0, 8, 0], "2": [0] * 4}}


def test_chatroom_read_zero_returns_0_until_a_message_comes(cprog) -> None:
    client = cprog("chatzero")
    with Sandbox([example("chatroom_read_zero").ReadZeroChatroom()]) as sb:
        waiter = sb.spawn([client, "P1"])
        waiter.expect("ready")
        assert sb.spawn([client, "P2", "hello"]).wait() == 0
        assert waiter.wait() == 0
        assert "P2: hello (after " in waiter.output
        assert not any(e.result is None for e in sb.trace)  # nobody ever slept
        assert any(e.syscall == "read" and e.result == 0 for e in sb.trace)


def test_mq_fifo_read_sleeps_until_a_write_and_the_count_ioctl_copies_out(cprog) -> None:
    client = cprog("mqfifo")
    with Sandbox([resolve(f"{ROOT}/examples/mq_fifo.py:MqFifo")(config={"QUEUE_LEN": "2"})]) as sb:
        receiver = sb.spawn([client, "recv"])
        receiver.wait_blocked()
        assert sb.spawn([client, "send", "one", "two", "three"]).wait() == 0
        assert receiver.wait() == 0
        # woken by "one"; by the time it runs, "three" may have pushed "one" out of 2
        assert re.fullmatch(r"got (one|two), [012] left\n", receiver.output), receiver.output
        assert [e.args.split(", ")[1] for e in sb.trace if e.syscall == "ioctl"] == ["MQ_IOC_COUNT"]
        assert sb.devices["mq"].snapshot()["overwritten"] in (0, 1)


def test_chardev_gets_a_dynamic_major_and_counts_opens(tmp_path: Path) -> None:
    dev = example("chardev").Chardev()
    with Sandbox([dev]) as sb:
        assert 234 <= dev.major_number <= 254
        node = tmp_path / "chardev"
        p = sb.spawn(["sh", "-c", f"mknod {node} c {dev.major_number} 0 && cat {node} {node}"])
        assert p.wait() == 0, p.stderr
        assert p.output == (
            "I already told you 1 times Hello world!\nI already told you 2 times Hello world!\n"
        )
        assert any("loaded (major " in line for _, _, line in sb.sup.dmesg)
