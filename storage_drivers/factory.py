"""Drivers by name: built-ins plus any package registering the ``pyregistry.storage_drivers``
entry-point group, so a third party can add a driver without touching this package."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from storage_drivers.base import StorageDriver
from storage_drivers.errors import StorageDriverError

ENTRY_POINT_GROUP = "pyregistry.storage_drivers"

_BUILTIN: dict[str, str] = {
    "azure": "storage_drivers.azure:AzureDriver",
    "filesystem": "storage_drivers.filesystem:FilesystemDriver",
    "gcs": "storage_drivers.gcs:GCSDriver",
    "inmemory": "storage_drivers.inmemory:InMemoryDriver",
    "s3": "storage_drivers.s3:S3Driver",
    "swift": "storage_drivers.swift:SwiftDriver",
}


def _load(target: str) -> type[StorageDriver]:
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, StorageDriver)):
        raise StorageDriverError(f"{target} is not a StorageDriver")
    return cls


def available_drivers() -> list[str]:
    """Names of every driver that can be created."""
    names = set(_BUILTIN)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def driver_class(name: str) -> type[StorageDriver]:
    """The class registered under ``name`` (entry points win over built-ins)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return _load(ep.value)
    if name in _BUILTIN:
        return _load(_BUILTIN[name])
    raise StorageDriverError(f"unknown storage driver {name!r}; known: {available_drivers()}")


def create_driver(name: str, parameters: Mapping[str, Any] | None = None) -> StorageDriver:
    """Create the driver ``name`` from its config parameters."""
    return driver_class(name).from_parameters(parameters or {})
