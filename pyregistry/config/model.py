"""Typed view of distribution's ``config.yml``.

Only what pyregistry acts on is typed; every section is also kept raw (``raw``) so that
later features (auth, notifications, proxy, ...) parse their own part without this
module growing a field for each option. Defaults follow distribution's. Raw sections hold
the values as written (after environment overrides): durations stay strings such as
``"10s"``, to be read with :func:`pyregistry.config.parse_duration`. Redis's 2.8 and 3.x
spellings (``pool.maxactive`` / ``poolsize`` ...) end up in the same typed fields.
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
    #: ``log.hooks`` as written (mail hooks; not acted on).
    hooks: list[dict[str, Any]] = field(default_factory=list)


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
    #: ``tag.concurrencylimit`` (0: pick a default)
    tag_concurrencylimit: int = 0


@dataclass
class TLSConfig:
    certificate: str | None = None
    key: str | None = None
    clientcas: list[str] = field(default_factory=list)
    minimumtls: str | None = None
    #: Go cipher suite names (``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``)
    ciphersuites: list[str] = field(default_factory=list)
    #: distribution 3's ``clientauth`` mode; None means require-and-verify when clientcas set
    clientauth: str | None = None
    letsencrypt: dict[str, Any] = field(default_factory=dict)


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
    http2_disabled: bool = False
    h2c_enabled: bool = False
    #: pyregistry: ``http.timeouts.header`` / ``.idle`` (0: the built-in defaults)
    timeouts_header_seconds: float = 0.0
    timeouts_idle_seconds: float = 0.0
    #: pyregistry: ``http.maxconnections`` per process (0: below the open-file limit)
    maxconnections: int = 0
    #: pyregistry: ``http.ratelimit`` as zot spells it: requests per second, overall
    #: (``rate``) and per method (``methods``); None/empty: no limit
    ratelimit_rate: int | None = None
    ratelimit_methods: dict[str, int] = field(default_factory=dict)


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
    #: 3.x ``tls`` client certificate settings
    tls_certificate: str | None = None
    tls_key: str | None = None
    tls_clientcas: list[str] = field(default_factory=list)
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
    middleware: dict[str, Any] = field(default_factory=dict)
    compatibility: dict[str, Any] = field(default_factory=dict)
    reporting: dict[str, Any] = field(default_factory=dict)
    catalog: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    #: The whole document after environment overrides.
    raw: dict[str, Any] = field(default_factory=dict)
    #: Where it came from, for error messages.
    source: str = "<defaults>"
    #: The file it was read from (None: built-in defaults); workers reload from it.
    path: str | None = None
    #: Things worth logging once logging is set up (ignored environment variables...).
    warnings: list[str] = field(default_factory=list)
