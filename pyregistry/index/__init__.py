"""The metadata index: repositories and tags, so listings need not walk storage.

Derived from storage (the truth), kept current by the registry's own writes through the
storage layer's ``MetadataIndex`` hook, rebuilt by ``pyregistry index rebuild``. See
``docs/index.md`` for why its answers stay exact across workers, crashes and rebuilds.
"""

from __future__ import annotations

import logging

from pyregistry.config.model import Config
from pyregistry.index.backend import Backend, IndexUnavailable
from pyregistry.index.config import IndexSettings, index_settings
from pyregistry.index.service import IndexService
from pyregistry.index.sqlite_backend import SqliteBackend
from pyregistry.storage.metadata import MetadataIndex
from pyregistry.tasks.scheduler import Scheduler

__all__ = [
    "Backend",
    "IndexService",
    "IndexSettings",
    "IndexUnavailable",
    "SqliteBackend",
    "build_index",
    "index_settings",
    "register_index_jobs",
]

log = logging.getLogger("pyregistry.index")


def build_index(config: Config, *, build_in_background: bool = True) -> IndexService | None:
    """The index the config asks for (None: listings walk storage)."""
    settings = index_settings(config)
    if not settings.enabled:
        log.info("metadata index off (%s): listings walk storage", settings.reason)
        return None
    backend: Backend
    if settings.backend == "redis" and config.redis is not None:
        from pyregistry.descriptor_cache.connection import settings_from_config
        from pyregistry.index.redis_backend import RedisBackend  # redis only when configured

        backend = RedisBackend(settings_from_config(config.redis))
    else:
        backend = SqliteBackend(settings.directory)
    return IndexService(
        backend, build_in_background=build_in_background, check_on_start=build_in_background
    )


def register_index_jobs(scheduler: Scheduler, index: MetadataIndex | None, config: Config) -> None:
    """``index.checkinterval``: the index compared with storage while serving."""
    interval = config.index.checkinterval_seconds
    if isinstance(index, IndexService) and interval:
        index.register_check(scheduler, interval)
