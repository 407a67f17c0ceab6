"""distribution's ``config.yml``: loading, environment overrides, the typed model.

Each section is described once, as a settings dataclass in :mod:`pyregistry.config.sections`
whose fields name their keys (``setting(DURATION, "maintenance.uploadpurging.age")``);
the shape the loader checks against (unknown keys with "did you mean" hints, types,
required keys, the Go field names ``REGISTRY_*`` overrides walk) and the conversion to the
typed value are derived from those fields (:mod:`pyregistry.config.declare`). Features
receive the typed settings (``config.notifications.endpoints[0].timeout`` in seconds), not
raw mappings.

Why not Pydantic v2, the field's usual choice: measured here, ``import pydantic`` costs
about 136 ms and building 40 small models about 45 ms more, against an embedded
``serve()`` that starts in about 0.4 s; and the configuration's contract is exact (the
error texts and key paths, the "did you mean" hints, exit code 2, distribution's
``REGISTRY_*`` walk over Go field names), which Pydantic's errors and aliases would have to
be translated into anyway. What Pydantic would bring is here in a few lines: error
locations (``health.file[0].interval``), several spellings of one setting (redis 2.8
``pool.maxactive`` and 3.x ``poolsize``) and a duration type (seconds). No dependency.
"""

from pyregistry.config.duration import format_duration, parse_duration
from pyregistry.config.errors import ConfigError
from pyregistry.config.loader import (
    CONFIG_PATH_ENV,
    config_from_document,
    default_document,
    load_config,
)
from pyregistry.config.model import (
    CatalogConfig,
    Config,
    DebugConfig,
    HealthConfig,
    HTTPConfig,
    IndexConfig,
    LogConfig,
    NotificationsSection,
    RedisConfig,
    StorageConfig,
    TLSConfig,
    ValidationConfig,
)

__all__ = [
    "CONFIG_PATH_ENV",
    "CatalogConfig",
    "Config",
    "ConfigError",
    "DebugConfig",
    "HTTPConfig",
    "HealthConfig",
    "IndexConfig",
    "LogConfig",
    "NotificationsSection",
    "RedisConfig",
    "StorageConfig",
    "TLSConfig",
    "ValidationConfig",
    "config_from_document",
    "default_document",
    "format_duration",
    "load_config",
    "parse_duration",
]
