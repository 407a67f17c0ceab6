"""Read ``config.yml`` (or the built-in defaults), apply ``REGISTRY_*`` overrides, check
it against the shape the section classes declare and build the typed :class:`Config`."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from typing import Any

import yaml

from pyregistry.config.declare import build, convert
from pyregistry.config.env import apply_env_overrides
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import (
    SCHEMA,
    AuthConfig,
    CatalogConfig,
    Config,
    HealthConfig,
    HTTPConfig,
    IndexConfig,
    LogConfig,
    ManagementConfig,
    NotificationsSection,
    RedisConfig,
    ReplicationSection,
    UIConfig,
    ValidationConfig,
)
from pyregistry.config.schema import check
from pyregistry.config.sections.mirrors import MIRRORS_SHAPE
from pyregistry.config.sections.storage import storage_config
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
    _check_http_limits(_section(checked, "http"), source)
    if supported_only:
        refuse_unsupported(checked, source)
    config = _build(checked, source)
    validation_policy(config.validation, source)  # patterns must compile
    return config


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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _section(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _build(doc: dict[str, Any], source: str) -> Config:
    """The checked document -> Config: each typed section by its declaration."""
    log = build(LogConfig, _section(doc, "log"))
    if not _section(doc, "log").get("level") and doc.get("loglevel"):
        log.level = str(doc["loglevel"]).lower()
    redis = _section(doc, "redis")
    config = Config(
        version=_text(doc.get("version")) or SUPPORTED_VERSION,
        log=log,
        storage=storage_config(_section(doc, "storage"), source),
        http=build(HTTPConfig, _section(doc, "http")),
        redis=build(RedisConfig, redis) if redis else None,
        notifications=build(NotificationsSection, _section(doc, "notifications")),
        validation=build(ValidationConfig, _section(doc, "validation")),
        catalog=build(CatalogConfig, _section(doc, "catalog")),
        index=build(IndexConfig, _section(doc, "index")),
        auth=AuthConfig.read(_section(doc, "auth"), source),
        health=build(HealthConfig, _section(doc, "health")),
        management=build(ManagementConfig, _section(doc, "management")),
        replication=build(ReplicationSection, _section(doc, "replication")),
        mirrors=convert(MIRRORS_SHAPE, doc.get("mirrors")),
        ui=build(UIConfig, _section(doc, "ui")),
        proxy=_section(doc, "proxy"),
        middleware=_section(doc, "middleware"),
        compatibility=_section(doc, "compatibility"),
        reporting=_section(doc, "reporting"),
        policy=_section(doc, "policy"),
        source=source,
    )
    config.raw = doc
    return config
