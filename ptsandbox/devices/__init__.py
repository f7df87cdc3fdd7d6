"""Built-in devices and the lookup of device classes by name or import path."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import weakref
from pathlib import Path
from typing import Any

from .base import Device, ParamError
from .chatroom import Chatroom
from .mailbox import Mailbox
from .message_slot import MessageSlot
from .mq import Mq

BUILTIN: dict[str, type[Device]] = {cls.name: cls for cls in (Chatroom, MessageSlot, Mq, Mailbox)}


class UnknownDevice(LookupError):
    pass


# where each class loaded from a file came from, so that asking twice for
# `file.py:Class` (a fresh import each time) is recognised as the same device
_ORIGINS: weakref.WeakKeyDictionary[type[Device], str] = weakref.WeakKeyDictionary()


def origin(cls: type[Device]) -> str:
    """`ptsandbox.devices.chatroom:Chatroom`, or `/abs/path/file.py:Class`."""
    return _ORIGINS.get(cls, f"{cls.__module__}:{cls.__qualname__}")


def resolve(name: str) -> type[Device]:
    """A device class from a built-in name, `package.module:Class` or `file.py:Class`."""
    if name in BUILTIN:
        return BUILTIN[name]
    if is_module_path(name):
        return _kernel_module(name)
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
    if where.endswith(".py"):
        _ORIGINS[cls] = f"{os.path.abspath(where)}:{cls_name}"
    return cls


def is_module_path(name: str) -> bool:
    """A kernel module's source: a .c file or a folder (with a kbuild Makefile)."""
    return name.endswith(".c") or (os.path.isdir(name) and ":" not in name)


def _kernel_module(path: str) -> type[Device]:
    from ..kmod.build import BuildError
    from .kmodule import module_class

    try:
        return module_class(path)
    except BuildError as e:
        diagnostics = e.diagnostics.rstrip()
        raise UnknownDevice(f"{diagnostics}\n{e.summary}" if diagnostics else e.summary) from None


def defining_params(device: Device) -> dict[str, Any]:
    """The parameters that tell this instance apart: every choice (a profile, a
    policy) and whatever differs from what those choices imply by default."""
    cls = type(device)
    choices = {p.name: device.config.get(p.name) for p in cls.all_params() if p.choices}
    try:
        baseline = cls(config=dict(choices)).config
    except (ParamError, ValueError):
        baseline = {}
    names = [p.name for p in cls.all_params()]
    return {
        **choices,
        **{n: device.config.get(n) for n in names if device.config.get(n) != baseline.get(n)},
    }


def parse_device_spec(spec: str) -> tuple[str, dict[str, str]]:
    """`NAME[,KEY=VALUE...]` -> (NAME, {KEY: VALUE})."""
    name, *pairs = spec.split(",")
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--device {spec}: expected KEY=VALUE, got {pair!r}")
        params[key.strip()] = value
    if not name:
        raise ValueError(f"--device {spec}: missing the device name")
    return name, params


def absolute_spec(spec: str) -> str:
    """A spec whose `file.py:Class` path works from another cwd (a namespace's)."""
    name, sep, rest = spec.partition(",")
    if is_module_path(name):
        return os.path.abspath(name) + sep + rest
    where, colon, cls_name = name.rpartition(":")
    if colon and where.endswith(".py"):
        name = f"{os.path.abspath(where)}:{cls_name}"
    return name + sep + rest


def build_devices(specs: list[str], builtins: bool = True) -> list[Device]:
    """The built-in devices at their defaults (unless not `builtins`), with `--device`
    specs applied on top. Raises ValueError with a one-line message."""
    chosen: dict[str, tuple[type[Device], dict[str, str]]] = (
        {name: (cls, {}) for name, cls in BUILTIN.items()} if builtins else {}
    )
    for spec in specs:
        name, params = parse_device_spec(spec)
        try:
            cls = resolve(name)
        except UnknownDevice as e:
            raise ValueError(str(e)) from None
        chosen[cls.name] = (cls, params)
    devices = []
    for cls, params in chosen.values():
        try:
            devices.append(cls(config=params))
        except ParamError as e:
            for d in devices:
                d.exit()  # modules loaded so far are unloaded again
            raise ValueError(f"{cls.name}: {e}") from None
    return _without_shadowed(devices, {n for n, _ in map(parse_device_spec, specs)})


def _without_shadowed(devices: list[Device], asked: set[str]) -> list[Device]:
    """A kernel module takes the place of a built-in device (one not asked for
    by --device) that has its major or one of its node paths."""
    from .kmodule import KernelModule

    modules = [d for d in devices if isinstance(d, KernelModule)]
    taken_majors = {m.major_number for m in modules if m.major_number}
    taken_paths = {path for m in modules for path in m.node_paths()}
    return [
        d
        for d in devices
        if isinstance(d, KernelModule)
        or d.name in asked
        or not (
            (d.major_number and d.major_number in taken_majors)
            or any(spec.path in taken_paths for spec in d.nodes())
        )
    ]


__all__ = [
    "BUILTIN",
    "Device",
    "ParamError",
    "UnknownDevice",
    "absolute_spec",
    "build_devices",
    "defining_params",
    "origin",
    "parse_device_spec",
    "resolve",
]
