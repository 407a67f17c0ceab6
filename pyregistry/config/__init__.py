"""distribution's ``config.yml``: loading, environment overrides, the typed model."""

from pyregistry.config.duration import format_duration, parse_duration
from pyregistry.config.errors import ConfigError
from pyregistry.config.loader import (
    CONFIG_PATH_ENV,
    config_from_document,
    default_document,
    load_config,
)
from pyregistry.config.model import (
    Config,
    DebugConfig,
    HTTPConfig,
    LogConfig,
    RedisConfig,
    StorageConfig,
    TLSConfig,
)

__all__ = [
    "CONFIG_PATH_ENV",
    "Config",
    "ConfigError",
    "DebugConfig",
    "HTTPConfig",
    "LogConfig",
    "RedisConfig",
    "StorageConfig",
    "TLSConfig",
    "config_from_document",
    "default_document",
    "format_duration",
    "load_config",
    "parse_duration",
]
