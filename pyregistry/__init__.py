"""pyregistry: a pure-Python OCI distribution registry.

The embedding API (``pyregistry.serve`` and friends, see :mod:`pyregistry.embedding`) is
imported on first use, so ``import pyregistry`` stays cheap for the CLI and its workers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pyregistry.config import Config, ConfigError
    from pyregistry.embedding import (
        AsyncEmbeddedRegistry,
        EmbeddedRegistry,
        Manifest,
        PreloadError,
        PushedManifest,
        RegistryClient,
        RegistryResponseError,
        serve,
        serve_async,
    )

#: Public name -> the module that defines it.
_LAZY = {
    "AsyncEmbeddedRegistry": "pyregistry.embedding",
    "EmbeddedRegistry": "pyregistry.embedding",
    "Manifest": "pyregistry.embedding",
    "PreloadError": "pyregistry.embedding",
    "PushedManifest": "pyregistry.embedding",
    "RegistryClient": "pyregistry.embedding",
    "RegistryResponseError": "pyregistry.embedding",
    "serve": "pyregistry.embedding",
    "serve_async": "pyregistry.embedding",
    "Config": "pyregistry.config",
    "ConfigError": "pyregistry.config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pyregistry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "AsyncEmbeddedRegistry",
    "Config",
    "ConfigError",
    "EmbeddedRegistry",
    "Manifest",
    "PreloadError",
    "PushedManifest",
    "RegistryClient",
    "RegistryResponseError",
    "__version__",
    "serve",
    "serve_async",
]
