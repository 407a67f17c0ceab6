"""``storage``: one driver with its free-form parameters, beside fixed keys (delete,
redirect, cache, maintenance, tag)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyregistry.config.declare import build, section, setting, shape_of
from pyregistry.config.errors import ConfigError
from pyregistry.config.schema import BOOL, DURATION, INT, STR, OneOf
from pyregistry.config.sections.maintenance import GCConfig, RetentionConfig

WEEK = 168 * 3600.0
DAY = 24 * 3600.0


@dataclass
class StorageConfig:
    #: The one key that is not a fixed one; its mapping is ``parameters``.
    driver: str = "filesystem"
    parameters: dict[str, Any] = field(default_factory=dict)
    delete_enabled: bool = setting(BOOL, "delete.enabled", default=False)
    redirect_disable: bool = setting(BOOL, "redirect.disable", default=False)
    readonly: bool = setting(BOOL, "maintenance.readonly.enabled", default=False)
    #: ``cache.blobdescriptor`` (or the old ``cache.layerinfo``): None, "inmemory" or "redis"
    cache_blobdescriptor: str | None = setting(STR, "cache.blobdescriptor", "cache.layerinfo")
    cache_blobdescriptorsize: int = setting(INT, "cache.blobdescriptorsize", default=10000)
    uploadpurging_enabled: bool = setting(BOOL, "maintenance.uploadpurging.enabled", default=True)
    uploadpurging_age_seconds: float = setting(
        DURATION, "maintenance.uploadpurging.age", default=WEEK
    )
    uploadpurging_interval_seconds: float = setting(
        DURATION, "maintenance.uploadpurging.interval", default=DAY
    )
    uploadpurging_dryrun: bool = setting(BOOL, "maintenance.uploadpurging.dryrun", default=False)
    gc: GCConfig = setting(section(GCConfig), "maintenance.gc", factory=GCConfig)
    retention: RetentionConfig = setting(
        section(RetentionConfig), "maintenance.retention", factory=RetentionConfig
    )
    #: ``tag.concurrencylimit`` (0: pick a default; accepted, not acted on)
    tag_concurrencylimit: int = setting(INT, "tag.concurrencylimit", default=0)


SHAPE = OneOf("storage driver", fixed=shape_of(StorageConfig).fields, required=True)


def storage_config(section: Mapping[str, Any], source: str) -> StorageConfig:
    """A checked ``storage`` section (it names at most one driver) -> StorageConfig."""
    drivers = [key for key in section if key not in SHAPE.fixed]
    if not drivers:
        raise ConfigError("no storage driver configured", key="storage", source=source)
    config = build(StorageConfig, section)
    config.driver = drivers[0]
    config.parameters = dict(section.get(config.driver) or {})
    return config
