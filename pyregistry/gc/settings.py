"""``storage.maintenance.gc``: pyregistry's online garbage collection, beside distribution's keys.

distribution has no online collection, so these keys are pyregistry's own (declared, and
checked when the configuration loads, in :mod:`pyregistry.config.sections.maintenance`).
``enabled`` (default false), ``interval`` (24h), ``grace`` (1h: nothing written more
recently than this is collected), ``deleteuntagged`` (false) and ``dryrun`` (false).
Collection never runs on a read-only registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.model import Config
from pyregistry.config.sections.maintenance import (
    DEFAULT_GC_GRACE_SECONDS,
    DEFAULT_GC_INTERVAL_SECONDS,
)

KEY = "storage.maintenance.gc"


@dataclass(frozen=True)
class GCSettings:
    enabled: bool = False
    interval_seconds: float = DEFAULT_GC_INTERVAL_SECONDS
    grace_seconds: float = DEFAULT_GC_GRACE_SECONDS
    delete_untagged: bool = False
    dry_run: bool = False


def gc_settings(config: Config) -> GCSettings:
    """The collector's settings from the configuration's typed ``storage`` section."""
    section = config.storage.gc
    return GCSettings(
        enabled=section.enabled,
        interval_seconds=section.interval_seconds,
        grace_seconds=section.grace_seconds,
        delete_untagged=section.deleteuntagged,
        dry_run=section.dryrun,
    )
