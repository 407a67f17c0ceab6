"""Typed view of distribution's ``config.yml``.

Only what pyregistry acts on is typed; every section is also kept raw (``raw``) so that
later features (auth, notifications, proxy, ...) parse their own part without this
module growing a field for each option. Defaults follow distribution's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LogConfig:
    level: str = "info"
    formatter: str = "text"  # text | json | logstash
    fields: dict[str, Any] = field(default_factory=dict)
    accesslog_disabled: bool = False
    reportcaller: bool = False


@dataclass
class StorageConfig:
    driver: str = "filesystem"
    parameters: dict[str, Any] = field(default_factory=dict)
    delete_enabled: bool = False
    redirect_disable: bool = False
    readonly: bool = False
    #: ``cache.blobdescriptor`` (or the old ``cache.layerinfo``): None, "inmemory" or "redis"
    cache_blobdescriptor: str | None = None
    cache_blobdescriptorsize: int = 10000
    #: ``maintenance.uploadpurging``
    uploadpurging_enabled: bool = True
    uploadpurging_age_seconds: float = 168 * 3600
    uploadpurging_interval_seconds: float = 24 * 3600
    uploadpurging_dryrun: bool = False


@dataclass
class TLSConfig:
    certificate: str | None = None
    key: str | None = None
    clientcas: list[str] = field(default_factory=list)
    minimumtls: str | None = None


@dataclass
class DebugConfig:
    addr: str | None = None
    prometheus_enabled: bool = False
    prometheus_path: str = "/metrics"


@dataclass
class HTTPConfig:
    addr: str = ":5000"
    net: str = "tcp"
    host: str | None = None
    prefix: str = "/"
    secret: str | None = None
    relativeurls: bool = False
    draintimeout_seconds: float = 0.0
    headers: dict[str, list[str]] = field(default_factory=dict)
    tls: TLSConfig = field(default_factory=TLSConfig)
    debug: DebugConfig = field(default_factory=DebugConfig)


@dataclass
class RedisConfig:
    #: 2.8 ``addr`` and 3.x ``addrs`` both end up here.
    addrs: list[str] = field(default_factory=list)
    username: str | None = None
    password: str | None = None
    db: int = 0
    dialtimeout_seconds: float | None = None
    readtimeout_seconds: float | None = None
    writetimeout_seconds: float | None = None
    pool_maxidle: int | None = None
    pool_maxactive: int | None = None
    pool_idletimeout_seconds: float | None = None
    tls_enabled: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    version: str = "0.1"
    log: LogConfig = field(default_factory=LogConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    http: HTTPConfig = field(default_factory=HTTPConfig)
    redis: RedisConfig | None = None
    #: Raw sections, parsed by the features that own them.
    auth: dict[str, Any] = field(default_factory=dict)
    notifications: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    proxy: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    #: The whole document after environment overrides.
    raw: dict[str, Any] = field(default_factory=dict)
    #: Where it came from, for error messages.
    source: str = "<defaults>"
