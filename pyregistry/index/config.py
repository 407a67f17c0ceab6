"""The ``index`` section (pyregistry's own): whether listings use the metadata index, where.

``index.enabled`` (default true) and ``index.path`` (a directory). Without a path, a
filesystem registry keeps its index beside its data, under ``<rootdirectory>/_pyregistry/
index`` (outside ``docker/``, so distribution never sees it); other drivers use
``./registry-index``. With a ``redis`` section, several instances may share one storage
and a per-host SQLite file would not see the other instances' writes, so the index then
lives in that Redis, unless ``index.path`` is set (meaning: SQLite there, this host's
processes are the only writers). In-memory storage needs no index (one on disk would
outlive it).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config

log = logging.getLogger("pyregistry.index")

SECTION = "index"
ROOT_SUBDIR = os.path.join("_pyregistry", "index")
CWD_DIR = "registry-index"
DEFAULT_FILESYSTEM_ROOT = "/var/lib/registry"


@dataclass(frozen=True)
class IndexSettings:
    enabled: bool
    #: "sqlite" (in ``directory``) or "redis" (the ``redis`` section's)
    backend: str
    directory: str
    #: Why it is off, for the start-up log (None when enabled).
    reason: str | None = None


def default_directory(config: Config) -> str:
    """Beside the data when storage is a local directory, else under the cwd."""
    if config.storage.driver == "filesystem":
        root = config.storage.parameters.get("rootdirectory") or DEFAULT_FILESYSTEM_ROOT
        return os.path.join(str(root), ROOT_SUBDIR)
    return CWD_DIR


def index_settings(config: Config) -> IndexSettings:
    enabled = config.index.enabled
    path = config.index.path
    if path is not None and not path.strip():
        raise ConfigError("expected a directory path", key="index.path", source=config.source)
    directory = os.path.abspath(path or default_directory(config))
    shared = path is None and config.redis is not None and bool(config.redis.addrs)
    backend = "redis" if shared else "sqlite"
    if config.storage.driver == "inmemory":
        return IndexSettings(False, backend, directory, "in-memory storage is walked in memory")
    if not enabled:
        return IndexSettings(False, backend, directory, "index.enabled: false")
    return IndexSettings(True, backend, directory)
