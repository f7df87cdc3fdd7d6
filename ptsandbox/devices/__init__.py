"""Built-in devices and the lookup of device classes by name or import path."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from .base import Device, ParamError
from .chatroom import Chatroom
from .mailbox import Mailbox
from .message_slot import MessageSlot
from .mq import Mq

BUILTIN: dict[str, type[Device]] = {cls.name: cls for cls in (Chatroom, MessageSlot, Mq, Mailbox)}


class UnknownDevice(LookupError):
    pass


def resolve(name: str) -> type[Device]:
    """A device class from a built-in name, `package.module:Class` or `file.py:Class`."""
    if name in BUILTIN:
        return BUILTIN[name]
    if ":" not in name:
        raise UnknownDevice(f"unknown device {name!r} (built-in: {', '.join(sorted(BUILTIN))})")
    where, _, cls_name = name.rpartition(":")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise UnknownDevice(f"device file {where} does not exist")
            spec = importlib.util.spec_from_file_location(f"ptsandbox_user_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise UnknownDevice(f"cannot load {where}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except UnknownDevice:
        raise
    except Exception as e:  # a user's module failing to import is a user error
        raise UnknownDevice(f"cannot import {where}: {e}") from e
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Device)):
        raise UnknownDevice(f"{name} is not a ptsandbox Device class")
    return cls


__all__ = ["BUILTIN", "Device", "ParamError", "UnknownDevice", "resolve"]
