"""`ptsandbox status`: a namespace's state as rich tables (schema: docs/namespaces.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table


def build(status: dict[str, Any]) -> Group:
    parts: list[Any] = []
    head = Table.grid(padding=(0, 2))
    head.add_row(
        f"[bold]namespace[/bold] {status['namespace']}",
        f"pid {status['pid']}",
        f"up {status['uptime_s']:.0f}s",
        f"{len(status['programs'])} program(s)",
    )
    parts.append(head)
    if status["programs"]:
        programs = Table(title="programs")
        for col in ("pid", "state", "command"):
            programs.add_column(col)
        for p in status["programs"]:
            state = "stopped" if p.get("stopped") else "running"
            programs.add_row(str(p["pid"]), state, " ".join(p["argv"]))
        parts.append(programs)
    devices = Table(title="devices")
    for col in ("device", "major", "nodes", "parameters"):
        devices.add_column(col)
    for name, d in status["devices"].items():
        params = ", ".join(f"{k}={v}" for k, v in d["params"].items())
        devices.add_row(name, str(d["major"]), "\n".join(d["nodes"]) or "-", params)
    parts.append(devices)
    files = Table(title="open files")
    for col in ("path", "device", "holders", "state"):
        files.add_column(col)
    for f in status["open_files"]:
        holders = ", ".join(f"{h['pid']} ({h['comm']})" for h in f.get("holders", []))
        state = ", ".join(
            f"{k}={_paths_of(status['devices'].get(f['device'], {}), v) if k == 'slot' else v}"
            for k, v in f.items()
            if k not in ("path", "device", "holders", "inode", "flags", "opener")
        )
        files.add_row(f["path"], f["device"], holders or f"opened by {f['opener']}", state)
    parts.append(files)
    room = status["devices"].get("chatroom", {}).get("state")
    if room and room.get("members"):
        members = Table(
            title=f"chatroom members ({room['messages']} messages, {room['dropped']} dropped)"
        )
        for col in ("member", "pid", "queued", "bytes", "received", "sent", "dropped"):
            members.add_column(col, justify="right" if col != "member" else "left")
        for m in room["members"]:
            members.add_row(
                m["name"], str(m["pid"]), str(m["queued"]), str(m["queued_bytes"]),
                str(m["received"]), str(m["sent"]), str(m["dropped"]),
            )  # fmt: skip
        parts.append(members)
    slot_dev = status["devices"].get("message_slot", {})
    slot = slot_dev.get("state")
    if slot and slot.get("slots"):
        slots = Table(title=f"message slots ({slot['profile']} profile)")
        for col in ("slot (node)", "channels", "messages"):
            slots.add_column(col)
        for s in slot["slots"]:
            msgs = "\n".join(
                f"{ch}: {c['preview']!r} ({c['length']} B)" for ch, c in s["channels"].items()
            )
            where = _paths_of(slot_dev, s["inode"])
            slots.add_row(where, str(s["channel_count"]), msgs or "-")
        parts.append(slots)
    mq = status["devices"].get("mq", {}).get("state")
    if mq and mq.get("registered"):
        boxes = Table(title=f"mq ({mq['sent']} sent, {mq['overwritten']} overwritten)")
        for col in ("name", mq["key"], "queued", "received", "overwritten"):
            boxes.add_column(col)
        for b in mq["registered"]:
            boxes.add_row(b["name"], str(b[mq["key"]]), str(b["queued"]), str(b["received"]),
                          str(b["overwritten"]))  # fmt: skip
        parts.append(boxes)
    mail = status["devices"].get("mailbox", {}).get("state")
    if mail and (mail.get("mailboxes") or mail.get("senders_waiting")):
        boxes = Table(title=f"mailboxes ({mail['mode']})")
        for col in ("pid", "queued", "from"):
            boxes.add_column(col)
        for b in mail["mailboxes"]:
            boxes.add_row(str(b["pid"]), str(b["queued"]), ", ".join(map(str, b["from"])))
        parts.append(boxes)
    if status["blocked"]:
        blocked = Table(title="blocked callers")
        for col in ("pid", "tid", "comm", "call", "waiting"):
            blocked.add_column(col)
        for b in status["blocked"]:
            blocked.add_row(
                str(b["pid"]),
                str(b["tid"]),
                b["comm"],
                b["call"],
                "-" if b["waiting_s"] is None else f"{b['waiting_s']:.1f}s",
            )
        parts.append(blocked)
    return Group(*parts)


def _paths_of(device: dict[str, Any], inode: int) -> str:
    """A node's path(s) from its inode (a slot is keyed by inode, as in the module)."""
    paths = [p for p, ino in device.get("node_inodes", {}).items() if ino == inode]
    return ", ".join(sorted(paths)) or f"inode {inode} (node removed)"


def render_status(status: dict[str, Any]) -> None:
    Console().print(build(status))


def watch_status(fetch: Callable[[], dict[str, Any]], interval: float = 1.0) -> None:
    with Live(build(fetch()), refresh_per_second=4, screen=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(build(fetch()))
        except KeyboardInterrupt:
            pass


def _waiting(seconds: float | None) -> str:
    # None: asleep in a pushed read, which the kernel serves (no start time is known)
    return "-" if seconds is None else f"{seconds:.1f}s"
