"""Turning the embedding's options (a config document, a :class:`Config`, or keyword
sections) into the one :class:`Config` the embedded server runs with.

A mapping goes through the same loader and schema as ``config.yml`` (by way of a temporary
file, the loader's public entry point), so an option that ``pyregistry serve`` would refuse
is refused here too, with the same message. ``REGISTRY_*`` environment variables are *not*
applied: a test suite's registry must not change with the shell it runs in.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyregistry.config import Config, config_from_document, load_config
from pyregistry.config.model import AuthConfig, typed_section
from pyregistry.embedding.auth_files import with_private_auth_files
from pyregistry.embedding.server import LOOPBACK

#: Keys of the ``storage`` section that are settings, not a driver name.
STORAGE_SETTINGS = frozenset({"delete", "redirect", "cache", "maintenance", "tag"})
DEFAULT_STORAGE = "inmemory"

ConfigSource = Config | Mapping[str, Any] | str | os.PathLike[str]
StorageOption = str | Mapping[str, Any]


@dataclass
class ResolvedOptions:
    """The config to serve, plus temporary directories the registry owns and removes."""

    config: Config
    temp_dirs: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """Paths and tuples become what YAML can write (str, list), recursively."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def config_from_mapping(document: Mapping[str, Any], source: str = "<embedded>") -> Config:
    """A config document (as ``config.yml`` would hold it) -> a checked :class:`Config`.

    Raises :class:`pyregistry.config.ConfigError` exactly as ``load_config`` does; the
    environment's ``REGISTRY_*`` variables are not applied.
    """
    plain = _plain(document)
    plain.setdefault("version", "0.1")
    return config_from_document(plain, source)


def _storage_section(storage: StorageOption, temp_dirs: list[str]) -> dict[str, Any]:
    """``"inmemory"``/``"filesystem"`` or a ``storage`` mapping -> a ``storage`` mapping.

    A filesystem driver without ``rootdirectory`` gets a temporary directory, removed when
    the registry stops.
    """
    if isinstance(storage, str):
        section: dict[str, Any] = {storage: {}}
    else:
        section = copy.deepcopy(dict(storage))
    drivers = [key for key in section if key not in STORAGE_SETTINGS]
    if drivers == ["filesystem"]:
        parameters = dict(section.get("filesystem") or {})
        if not parameters.get("rootdirectory"):
            root = tempfile.mkdtemp(prefix="pyregistry-embedded-storage-")
            temp_dirs.append(root)
            parameters["rootdirectory"] = root
        section["filesystem"] = parameters
    return section


def resolve_options(
    config: ConfigSource | None = None,
    *,
    storage: StorageOption | None = None,
    auth: Mapping[str, Any] | None = None,
    notifications: Mapping[str, Any] | None = None,
    delete: bool | None = None,
    credentials: tuple[str, str] | None = None,
) -> ResolvedOptions:
    """Merge ``config`` (a document, a ``Config`` or a config file path; default: empty)
    with the keyword sections, which win. Deletes default to enabled: tests clean up. An
    ``auth`` section without users file or signing key gets temporary ones, the users file
    holding ``credentials`` (:mod:`pyregistry.embedding.auth_files`). Temporary directories
    made on the way are removed again if the options are bad."""
    temp_dirs: list[str] = []
    try:
        return _resolve(config, storage, auth, notifications, delete, credentials, temp_dirs)
    except BaseException:
        remove_temp_dirs(temp_dirs)
        raise


def _resolve(
    config: ConfigSource | None,
    storage: StorageOption | None,
    auth: Mapping[str, Any] | None,
    notifications: Mapping[str, Any] | None,
    delete: bool | None,
    credentials: tuple[str, str] | None,
    temp_dirs: list[str],
) -> ResolvedOptions:
    if isinstance(config, Config):
        patched = _patch_config(config, storage, auth, notifications, delete, temp_dirs)
        written = with_private_auth_files(dict(patched.auth), credentials, temp_dirs)
        patched.auth = AuthConfig.read(written, patched.source)
        if patched.raw and "auth" in patched.raw:
            patched.raw["auth"] = written
        return ResolvedOptions(patched, temp_dirs)
    if isinstance(config, str | os.PathLike):
        base: dict[str, Any] = copy.deepcopy(load_config(os.fspath(config), environ={}).raw)
    else:
        base = copy.deepcopy(_plain(config or {}))
    if storage is not None:
        base["storage"] = _storage_section(storage, temp_dirs)
    elif not isinstance(base.get("storage"), Mapping) or not base["storage"]:
        base["storage"] = _storage_section(DEFAULT_STORAGE, temp_dirs)
    else:
        base["storage"] = _storage_section(base["storage"], temp_dirs)
    delete_section = base["storage"].setdefault("delete", {})
    if delete is not None:
        delete_section["enabled"] = delete
    else:
        delete_section.setdefault("enabled", True)
    if auth is not None:
        base["auth"] = _plain(auth)
    if "auth" in base:
        base["auth"] = with_private_auth_files(base["auth"], credentials, temp_dirs)
    if notifications is not None:
        base["notifications"] = _plain(notifications)
    http = base.setdefault("http", {})
    http["addr"] = f"{LOOPBACK}:0"
    loaded = config_from_mapping(base)
    _private_queue(loaded, temp_dirs)
    return ResolvedOptions(loaded, temp_dirs)


def _private_queue(config: Config, temp_dirs: list[str]) -> None:
    """Notifications without ``queue.directory`` would queue in the working directory
    (storage not on local disk): give them a temporary one instead."""
    section = config.notifications
    if not section.endpoints or config.storage.driver == "filesystem":
        return
    if section.queue_directory:
        return
    directory = tempfile.mkdtemp(prefix="pyregistry-embedded-events-")
    temp_dirs.append(directory)
    section["queue"] = {**(section.get("queue") or {}), "directory": directory}


def _patch_config(
    config: Config,
    storage: StorageOption | None,
    auth: Mapping[str, Any] | None,
    notifications: Mapping[str, Any] | None,
    delete: bool | None,
    temp_dirs: list[str],
) -> Config:
    """A copy of ``config`` (used as given: its typed fields win over its ``raw`` document)
    with the keyword sections applied; a filesystem driver without a root gets one."""
    result = copy.deepcopy(config)
    if storage is not None:
        section = _storage_section(storage, temp_dirs)
        parsed = config_from_mapping({"storage": section}).storage
        parsed.delete_enabled = result.storage.delete_enabled
        result.storage = parsed
    if result.storage.driver == "filesystem" and not result.storage.parameters.get("rootdirectory"):
        root = tempfile.mkdtemp(prefix="pyregistry-embedded-storage-")
        temp_dirs.append(root)
        result.storage.parameters = {**result.storage.parameters, "rootdirectory": root}
    if delete is not None:
        result.storage.delete_enabled = delete
    if auth is not None:
        result.auth = AuthConfig.read(_plain(auth), result.source)
    if notifications is not None:
        result.notifications = typed_section("notifications", _plain(notifications), result.source)
    for name, given in (("auth", auth), ("notifications", notifications)):
        if given is not None and result.raw:
            result.raw[name] = _plain(given)
    result.http.addr = f"{LOOPBACK}:0"
    _private_queue(result, temp_dirs)
    return result


def remove_temp_dirs(paths: list[str]) -> None:
    """Remove the directories :func:`resolve_options` made (ignoring ones already gone)."""
    for path in paths:
        shutil.rmtree(Path(path), ignore_errors=True)
