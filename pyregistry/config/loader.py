"""Read ``config.yml`` (or the built-in defaults), apply ``REGISTRY_*`` overrides, check
it against the schema and build the typed :class:`Config`."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from typing import Any

import yaml

from pyregistry.config.duration import parse_duration
from pyregistry.config.env import apply_env_overrides
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import (
    Config,
    DebugConfig,
    HTTPConfig,
    LogConfig,
    RedisConfig,
    StorageConfig,
    TLSConfig,
)
from pyregistry.config.schema import SCHEMA, check
from pyregistry.config.support import refuse_unsupported
from pyregistry.config.validation import validation_policy

#: Names the file when ``serve`` is given none (as distribution's image does).
CONFIG_PATH_ENV = "REGISTRY_CONFIGURATION_PATH"
#: Where ``serve`` without a file keeps its data, relative to the working directory.
DEFAULT_ROOT = "registry-data"
DEFAULT_ADDR = "127.0.0.1:5000"
SUPPORTED_VERSION = "0.1"


def default_document(cwd: str | None = None) -> dict[str, Any]:
    """The configuration ``pyregistry serve`` uses without a file: filesystem storage in
    ``./registry-data``, loopback port 5000, deletes enabled."""
    root = os.path.join(os.path.abspath(cwd or os.getcwd()), DEFAULT_ROOT)
    return {
        "version": SUPPORTED_VERSION,
        "storage": {"filesystem": {"rootdirectory": root}, "delete": {"enabled": True}},
        "http": {"addr": DEFAULT_ADDR},
    }


def load_config(
    path: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    supported_only: bool = True,
) -> Config:
    """Load ``path`` (else ``$REGISTRY_CONFIGURATION_PATH``, else the defaults) with the
    environment's ``REGISTRY_*`` overrides. Raises :class:`ConfigError`; also for settings
    pyregistry cannot honour (:mod:`pyregistry.config.support`) unless ``supported_only``
    is False (tools that only read a file)."""
    env = os.environ if environ is None else environ
    path = path or env.get(CONFIG_PATH_ENV) or None
    if path is None:
        document, source = default_document(), "<defaults>"
    else:
        document, source = _read(path), path
        if document.get("version") is None:
            raise ConfigError(
                f"required (the configuration format version, {SUPPORTED_VERSION})",
                key="version",
                source=source,
            )
    warnings = apply_env_overrides(document, env, SCHEMA)
    config = config_from_document(document, source, supported_only=supported_only)
    config.path = path
    config.warnings = warnings + _ignored(config)
    return config


def _ignored(config: Config) -> list[str]:
    """Keys distribution's own examples use that mean nothing, worth a warning."""
    if "cacheTTL" in config.proxy:
        return ["proxy.cacheTTL is not an option and is ignored (the cache TTL is proxy.ttl)"]
    return []


def config_from_document(
    document: Mapping[str, Any], source: str = "<document>", *, supported_only: bool = True
) -> Config:
    """A parsed ``config.yml`` mapping (no environment applied) -> a checked Config, for
    callers that build their configuration in code (embedding, tests)."""
    checked: dict[str, Any] = check(SCHEMA, copy.deepcopy(dict(document)), "", source)
    version = _text(checked.get("version"))
    if not re.fullmatch(r"\d+\.\d+", version or "") or version != SUPPORTED_VERSION:
        raise ConfigError(
            f"unsupported version {version!r} (supported: {SUPPORTED_VERSION})",
            key="version",
            source=source,
        )
    validation_policy(_section(checked, "validation"), source)  # patterns must compile
    _check_http_limits(_section(checked, "http"), source)
    if supported_only:
        refuse_unsupported(checked, source)
    return _build(checked, source)


def _check_http_limits(http: dict[str, Any], source: str) -> None:
    """Counts and rates that must be positive (the schema only knows they are integers)."""
    ratelimit = _section(http, "ratelimit")
    numbers = [("http.maxconnections", http.get("maxconnections"))]
    numbers.append(("http.ratelimit.rate", ratelimit.get("rate")))
    for index, item in enumerate(ratelimit.get("methods") or []):
        numbers.append((f"http.ratelimit.methods[{index}].rate", item.get("rate")))
    for key, value in numbers:
        if value is not None and value <= 0:
            raise ConfigError("must be a positive number", key=key, source=source)


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc.strerror}", source=path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", source=path) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError("the configuration must be a YAML mapping", source=path)
    return document


def _get(document: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _seconds(value: Any, default: float | None) -> float | None:
    return default if value is None else parse_duration(value)


def _section(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _build(doc: dict[str, Any], source: str) -> Config:
    return Config(
        version=_text(doc.get("version")) or SUPPORTED_VERSION,
        log=_build_log(doc),
        storage=_build_storage(doc, source),
        http=_build_http(doc),
        redis=_build_redis(doc.get("redis")),
        auth=_section(doc, "auth"),
        notifications=_section(doc, "notifications"),
        health=_section(doc, "health"),
        proxy=_section(doc, "proxy"),
        validation=_section(doc, "validation"),
        middleware=_section(doc, "middleware"),
        compatibility=_section(doc, "compatibility"),
        reporting=_section(doc, "reporting"),
        catalog=_section(doc, "catalog"),
        policy=_section(doc, "policy"),
        raw=doc,
        source=source,
    )


def _build_log(doc: dict[str, Any]) -> LogConfig:
    log = _section(doc, "log")
    level = log.get("level") or doc.get("loglevel") or "info"
    return LogConfig(
        level=str(level).lower(),
        formatter=str(log.get("formatter") or "text").lower(),
        fields=dict(log.get("fields") or {}),
        accesslog_disabled=bool(_get(log, "accesslog", "disabled")),
        reportcaller=bool(log.get("reportcaller")),
        hooks=list(log.get("hooks") or []),
    )


def _build_storage(doc: dict[str, Any], source: str) -> StorageConfig:
    storage = _section(doc, "storage")
    fixed = {"delete", "redirect", "cache", "maintenance", "tag"}
    drivers = [key for key in storage if key not in fixed]
    if not drivers:
        raise ConfigError("no storage driver configured", key="storage", source=source)
    driver = drivers[0]
    cache = _section(storage, "cache")
    purge = _get(storage, "maintenance", "uploadpurging") or {}
    defaults = StorageConfig()
    size = cache.get("blobdescriptorsize")
    return StorageConfig(
        driver=driver,
        parameters=dict(storage.get(driver) or {}),
        delete_enabled=bool(_get(storage, "delete", "enabled")),
        redirect_disable=bool(_get(storage, "redirect", "disable")),
        readonly=bool(_get(storage, "maintenance", "readonly", "enabled")),
        cache_blobdescriptor=_text(cache.get("blobdescriptor") or cache.get("layerinfo")),
        cache_blobdescriptorsize=defaults.cache_blobdescriptorsize if size is None else size,
        uploadpurging_enabled=purge.get("enabled", True) is not False,
        uploadpurging_age_seconds=_seconds(purge.get("age"), defaults.uploadpurging_age_seconds)
        or 0.0,
        uploadpurging_interval_seconds=_seconds(
            purge.get("interval"), defaults.uploadpurging_interval_seconds
        )
        or 0.0,
        uploadpurging_dryrun=bool(purge.get("dryrun")),
        tag_concurrencylimit=_get(storage, "tag", "concurrencylimit") or 0,
    )


def _build_http(doc: dict[str, Any]) -> HTTPConfig:
    http = _section(doc, "http")
    tls = _section(http, "tls")
    debug = _section(http, "debug")
    prometheus = _section(debug, "prometheus")
    defaults = HTTPConfig()
    return HTTPConfig(
        addr=_text(http.get("addr")) or defaults.addr,
        net=_text(http.get("net")) or defaults.net,
        host=_text(http.get("host")) or None,
        prefix=_text(http.get("prefix")) or defaults.prefix,
        secret=_text(http.get("secret")) or None,
        relativeurls=bool(http.get("relativeurls")),
        draintimeout_seconds=_seconds(http.get("draintimeout"), 0.0) or 0.0,
        headers={
            str(name): [_text(v) or "" for v in values or []]
            for name, values in (http.get("headers") or {}).items()
        },
        tls=TLSConfig(
            certificate=_text(tls.get("certificate")) or None,
            key=_text(tls.get("key")) or None,
            clientcas=[str(ca) for ca in tls.get("clientcas") or []],
            minimumtls=_text(tls.get("minimumtls")) or None,
            ciphersuites=[str(c) for c in tls.get("ciphersuites") or []],
            clientauth=_text(tls.get("clientauth")) or None,
            letsencrypt=dict(tls.get("letsencrypt") or {}),
        ),
        debug=DebugConfig(
            addr=_text(debug.get("addr")) or None,
            prometheus_enabled=bool(prometheus.get("enabled")),
            prometheus_path=_text(prometheus.get("path")) or "/metrics",
        ),
        http2_disabled=bool(_get(http, "http2", "disabled")),
        h2c_enabled=bool(_get(http, "h2c", "enabled")),
        timeouts_header_seconds=_seconds(_get(http, "timeouts", "header"), 0.0) or 0.0,
        timeouts_idle_seconds=_seconds(_get(http, "timeouts", "idle"), 0.0) or 0.0,
        maxconnections=http.get("maxconnections") or 0,
        ratelimit_rate=_get(http, "ratelimit", "rate"),
        ratelimit_methods={
            str(item["method"]).upper(): item["rate"]
            for item in _get(http, "ratelimit", "methods") or []
        },
    )


def _build_redis(section: Any) -> RedisConfig | None:
    if not isinstance(section, dict) or not section:
        return None
    pool = _section(section, "pool")
    tls = _section(section, "tls")
    addrs = [str(a) for a in section.get("addrs") or []]
    if section.get("addr"):
        addrs = [str(section["addr"])] + [a for a in addrs if a != str(section["addr"])]
    return RedisConfig(
        addrs=addrs,
        username=_text(section.get("username")) or None,
        password=_text(section.get("password")) or None,
        db=section.get("db") or 0,
        dialtimeout_seconds=_seconds(section.get("dialtimeout"), None),
        readtimeout_seconds=_seconds(section.get("readtimeout"), None),
        writetimeout_seconds=_seconds(section.get("writetimeout"), None),
        pool_maxidle=_first(pool.get("maxidle"), section.get("maxidleconns")),
        pool_maxactive=_first(pool.get("maxactive"), section.get("poolsize")),
        pool_idletimeout_seconds=_seconds(
            _first(pool.get("idletimeout"), section.get("connmaxidletime")), None
        ),
        tls_enabled=bool(tls.get("enabled")) or bool(tls.get("certificate")),
        tls_certificate=_text(tls.get("certificate")) or None,
        tls_key=_text(tls.get("key")) or None,
        tls_clientcas=[str(ca) for ca in tls.get("clientcas") or []],
        raw=section,
    )


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)
