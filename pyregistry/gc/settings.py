"""``storage.maintenance.gc``: pyregistry's online garbage collection, beside distribution's keys.

distribution has no online collection, so these keys are pyregistry's own (distribution
2.8 refuses unknown keys only under ``storage.maintenance``'s fixed children it knows;
pyregistry's schema lists them). ``enabled`` (default false), ``interval`` (24h),
``grace`` (1h: nothing written more recently than this is collected), ``deleteuntagged``
(false) and ``dryrun`` (false). Collection never runs on a read-only registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.config.duration import parse_duration
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config

KEY = "storage.maintenance.gc"
DEFAULT_INTERVAL_SECONDS = 24 * 3600.0
DEFAULT_GRACE_SECONDS = 3600.0


@dataclass(frozen=True)
class GCSettings:
    enabled: bool = False
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    delete_untagged: bool = False
    dry_run: bool = False


def maintenance_section(config: Config, name: str) -> dict[str, Any]:
    """``storage.maintenance.<name>`` as written (empty when absent)."""
    storage = config.raw.get("storage") if isinstance(config.raw, dict) else None
    maintenance = storage.get("maintenance") if isinstance(storage, dict) else None
    section = maintenance.get(name) if isinstance(maintenance, dict) else None
    return section if isinstance(section, dict) else {}


def _flag(section: dict[str, Any], key: str, config: Config) -> bool:
    value = section.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError("expected true or false", key=f"{KEY}.{key}", source=config.source)
    return value


def _seconds(section: dict[str, Any], key: str, default: float, config: Config) -> float:
    if section.get(key) is None:
        return default
    try:
        return parse_duration(section[key])
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc), key=f"{KEY}.{key}", source=config.source) from None


def gc_settings(config: Config) -> GCSettings:
    section = maintenance_section(config, "gc")
    return GCSettings(
        enabled=_flag(section, "enabled", config),
        interval_seconds=_seconds(section, "interval", DEFAULT_INTERVAL_SECONDS, config),
        grace_seconds=_seconds(section, "grace", DEFAULT_GRACE_SECONDS, config),
        delete_untagged=_flag(section, "deleteuntagged", config),
        dry_run=_flag(section, "dryrun", config),
    )
