"""Embedding: a real registry inside a Python process (a test suite), in one line.

::

    with pyregistry.serve(storage="inmemory") as reg:
        digest = reg.push_random_image("demo/app", "v1")
        subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reg.host}/demo/app"])

:func:`serve` takes the options of ``config.yml`` (a document, a :class:`Config` or a file
path, and/or the ``storage``, ``auth``, ``notifications`` and ``delete`` sections as
keywords) and returns an :class:`EmbeddedRegistry` that serves while its ``with`` block
runs. :func:`serve_async` is the same for ``async with``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyregistry.client import Manifest, RegistryClient, RegistryResponseError
from pyregistry.embedding.aio import AsyncEmbeddedRegistry
from pyregistry.embedding.helpers import RegistryHelpers
from pyregistry.embedding.options import (
    ConfigSource,
    StorageOption,
    config_from_mapping,
    resolve_options,
)
from pyregistry.embedding.preload import PreloadError, PushedManifest
from pyregistry.embedding.registry import EmbeddedRegistry
from pyregistry.embedding.server import BackgroundServer


def serve(
    config: ConfigSource | None = None,
    *,
    storage: StorageOption | None = None,
    auth: Mapping[str, Any] | None = None,
    notifications: Mapping[str, Any] | None = None,
    delete: bool | None = None,
    credentials: tuple[str, str] | None = None,
    log_level: str = "error",
) -> EmbeddedRegistry:
    """A registry to run with ``with serve(...) as reg:`` (or ``.start()``/``.stop()``).

    ``config``: a config document (dict, as ``config.yml`` holds it), a :class:`Config`,
    or a config file path; keyword sections override it. ``storage`` is a driver name
    (``"inmemory"``, the default, or ``"filesystem"``, which then gets a temporary root
    removed on exit) or a ``storage`` section. Deletes are enabled unless
    ``delete=False``. ``credentials`` (user, password) are what the content helpers log in
    with when ``auth`` is on; an ``auth`` section that names no users file (or no token
    signing key) gets a temporary one holding that user. ``log_level`` is uvicorn's
    (``"error"``: clients probing the plain-HTTP port with TLS first would print
    warnings). The listening address is always ``127.0.0.1:<free port>``.
    """
    resolved = resolve_options(
        config,
        storage=storage,
        auth=auth,
        notifications=notifications,
        delete=delete,
        credentials=credentials,
    )
    return EmbeddedRegistry(
        resolved.config,
        credentials=credentials,
        temp_dirs=resolved.temp_dirs,
        log_level=log_level,
    )


def serve_async(
    config: ConfigSource | None = None,
    *,
    storage: StorageOption | None = None,
    auth: Mapping[str, Any] | None = None,
    notifications: Mapping[str, Any] | None = None,
    delete: bool | None = None,
    credentials: tuple[str, str] | None = None,
    log_level: str = "error",
) -> AsyncEmbeddedRegistry:
    """:func:`serve` for ``async with serve_async(...) as reg:``; helpers are awaitable."""
    return AsyncEmbeddedRegistry(
        serve(
            config,
            storage=storage,
            auth=auth,
            notifications=notifications,
            delete=delete,
            credentials=credentials,
            log_level=log_level,
        )
    )


__all__ = [
    "AsyncEmbeddedRegistry",
    "BackgroundServer",
    "ConfigSource",
    "EmbeddedRegistry",
    "Manifest",
    "PreloadError",
    "PushedManifest",
    "RegistryClient",
    "RegistryHelpers",
    "RegistryResponseError",
    "StorageOption",
    "config_from_mapping",
    "serve",
    "serve_async",
]
