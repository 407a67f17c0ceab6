"""The ``notifications`` section of distribution's config.yml, checked once at start-up.

Defaults follow distribution (timeout 1s, threshold 10, backoff 1s when unset or zero), so a
distribution config works unchanged. Values distribution would quietly misread (a negative
duration, an unknown action, two endpoints with one name) are refused with a
:class:`ConfigError` naming the key, because a notification pipeline that silently does
something else than asked is worse than a registry that does not start.

``queue.directory`` is pyregistry's own key: where the durable event queue lives (see
``docs/notifications.md``). Without it, a filesystem registry keeps its queue under its
storage root (``_pyregistry/notifications``), any other driver under
``./registry-notifications``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pyregistry.config.duration import parse_duration
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config

DEFAULT_TIMEOUT = 1.0
DEFAULT_THRESHOLD = 10
DEFAULT_BACKOFF = 1.0
#: The actions events carry; ``ignore.actions`` must name some of these.
ACTIONS = ("push", "pull", "mount", "delete")
#: Under a filesystem storage root: outside ``docker/registry/v2``, so distribution and its
#: garbage collector never look at it.
ROOT_QUEUE_SUBDIR = os.path.join("_pyregistry", "notifications")
CWD_QUEUE_DIR = "registry-notifications"
SECTION = "notifications"


@dataclass(frozen=True)
class EndpointConfig:
    """One configured endpoint, defaults applied."""

    name: str
    url: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    threshold: int = DEFAULT_THRESHOLD
    backoff: float = DEFAULT_BACKOFF
    ignored_media_types: frozenset[str] = frozenset()
    ignored_actions: frozenset[str] = frozenset()

    def wants(self, event: dict[str, Any]) -> bool:
        """False for events this endpoint's ``ignore`` rules drop.

        Media types and actions are checked independently: ``ignore.actions`` alone works
        (distribution 2.8 only applied it when media types were also ignored).
        """
        if event.get("action") in self.ignored_actions:
            return False
        media_type = event.get("target", {}).get("mediaType")
        return media_type not in self.ignored_media_types


@dataclass(frozen=True)
class NotificationsConfig:
    """The whole section: active endpoints (disabled ones dropped) and queue settings."""

    endpoints: tuple[EndpointConfig, ...] = ()
    include_references: bool = False
    queue_directory: str = CWD_QUEUE_DIR
    #: Names of endpoints configured but ``disabled: true`` (for a log line).
    disabled: tuple[str, ...] = ()


def parse_notifications(config: Config) -> NotificationsConfig:
    """Check ``config.notifications``; raises :class:`ConfigError` naming the bad key."""
    section = config.notifications or {}
    source = config.source

    def fail(message: str, key: str) -> ConfigError:
        return ConfigError(message, key=f"{SECTION}.{key}", source=source)

    if not isinstance(section, dict):
        raise ConfigError("expected a mapping", key=SECTION, source=source)
    events = _mapping(section.get("events"), "events", fail)
    include_references = _bool(events.get("includereferences"), "events.includereferences", fail)

    raw_endpoints = section.get("endpoints") or []
    if not isinstance(raw_endpoints, list):
        raise fail("expected a list of endpoints", "endpoints")
    endpoints: list[EndpointConfig] = []
    disabled: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_endpoints):
        key = f"endpoints[{index}]"
        entry = _mapping(raw, key, fail)
        endpoint = _endpoint(entry, key, fail)
        if endpoint.name in seen:
            raise fail(f"duplicate endpoint name {endpoint.name!r}", f"{key}.name")
        seen.add(endpoint.name)
        if _bool(entry.get("disabled"), f"{key}.disabled", fail):
            disabled.append(endpoint.name)
        else:
            endpoints.append(endpoint)

    queue = _mapping(section.get("queue"), "queue", fail)
    directory = queue.get("directory")
    if directory is not None and (not isinstance(directory, str) or not directory.strip()):
        raise fail("expected a directory path", "queue.directory")
    return NotificationsConfig(
        endpoints=tuple(endpoints),
        include_references=include_references,
        queue_directory=directory or default_queue_directory(config),
        disabled=tuple(disabled),
    )


def default_queue_directory(config: Config) -> str:
    """Next to the data it describes when storage is a local directory, else the cwd."""
    root = config.storage.parameters.get("rootdirectory")
    if config.storage.driver == "filesystem":
        return os.path.join(root or "/var/lib/registry", ROOT_QUEUE_SUBDIR)
    return CWD_QUEUE_DIR


def _endpoint(entry: dict[str, Any], key: str, fail: Any) -> EndpointConfig:
    name = entry.get("name")
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        name = str(name)  # YAML read it as a number; Go reads it into the string field
    if not isinstance(name, str) or not name.strip():
        raise fail("required: a name for the endpoint", f"{key}.name")
    url = entry.get("url")
    if not isinstance(url, str) or not url.strip():
        raise fail("required: the URL events are posted to", f"{key}.url")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(f"expected an http:// or https:// URL with a host, got {url!r}", f"{key}.url")
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if not port_ok:
        raise fail(f"invalid port in {url!r}", f"{key}.url")

    ignore = _mapping(entry.get("ignore"), f"{key}.ignore", fail)
    media_types = _strings(entry.get("ignoredmediatypes"), f"{key}.ignoredmediatypes", fail)
    media_types += _strings(ignore.get("mediatypes"), f"{key}.ignore.mediatypes", fail)
    actions = _strings(ignore.get("actions"), f"{key}.ignore.actions", fail)
    for action in actions:
        if action not in ACTIONS:
            raise fail(
                f"unknown action {action!r}, expected some of: {', '.join(ACTIONS)}",
                f"{key}.ignore.actions",
            )
    threshold = _int(entry.get("threshold"), f"{key}.threshold", fail)
    return EndpointConfig(
        name=name.strip(),
        url=url.strip(),
        headers=_headers(entry.get("headers"), f"{key}.headers", fail),
        timeout=_duration(entry.get("timeout"), f"{key}.timeout", fail) or DEFAULT_TIMEOUT,
        threshold=threshold or DEFAULT_THRESHOLD,
        backoff=_duration(entry.get("backoff"), f"{key}.backoff", fail) or DEFAULT_BACKOFF,
        ignored_media_types=frozenset(media_types),
        ignored_actions=frozenset(actions),
    )


def _mapping(value: Any, key: str, fail: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("expected a mapping", key)
    return value


def _bool(value: Any, key: str, fail: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise fail(f"expected true or false, got {value!r}", key)


def _int(value: Any, key: str, fail: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(f"expected a non-negative integer, got {value!r}", key)
    return value


def _duration(value: Any, key: str, fail: Any) -> float:
    """Seconds; 0 when unset (the caller applies distribution's default)."""
    if value is None:
        return 0.0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # from an environment override: nanoseconds, as Go reads it
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise fail(str(exc), key) from None
    if seconds < 0:
        raise fail(f"must not be negative, got {value!r}", key)
    return seconds


def _strings(value: Any, key: str, fail: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail("expected a list of strings", key)
    return list(value)


def _headers(value: Any, key: str, fail: Any) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, values in _mapping(value, key, fail).items():
        if not isinstance(values, list) or not all(
            isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in values
        ):
            raise fail("expected a list of values (headers: {Name: [value, ...]})", f"{key}.{name}")
        text = [str(item) for item in values]
        if any("\r" in item or "\n" in item for item in text) or not str(name).strip():
            raise fail("header names and values must be single-line text", f"{key}.{name}")
        headers[str(name)] = text
    return headers
