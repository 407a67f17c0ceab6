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

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config, EndpointSettings

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
    """The typed ``config.notifications`` with defaults applied and the checks a type cannot
    make; raises :class:`ConfigError` naming the bad key."""
    section = config.notifications
    source = config.source

    def fail(message: str, key: str) -> ConfigError:
        return ConfigError(message, key=f"{SECTION}.{key}", source=source)

    endpoints: list[EndpointConfig] = []
    disabled: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(section.endpoints):
        key = f"endpoints[{index}]"
        endpoint = _endpoint(entry, key, fail)
        if endpoint.name in seen:
            raise fail(f"duplicate endpoint name {endpoint.name!r}", f"{key}.name")
        seen.add(endpoint.name)
        if entry.disabled:
            disabled.append(endpoint.name)
        else:
            endpoints.append(endpoint)

    directory = section.queue_directory
    if directory is not None and not directory.strip():
        raise fail("expected a directory path", "queue.directory")
    return NotificationsConfig(
        endpoints=tuple(endpoints),
        include_references=section.includereferences,
        queue_directory=directory or default_queue_directory(config),
        disabled=tuple(disabled),
    )


def default_queue_directory(config: Config) -> str:
    """Next to the data it describes when storage is a local directory, else the cwd."""
    root = config.storage.parameters.get("rootdirectory")
    if config.storage.driver == "filesystem":
        return os.path.join(root or "/var/lib/registry", ROOT_QUEUE_SUBDIR)
    return CWD_QUEUE_DIR


def _endpoint(entry: EndpointSettings, key: str, fail: Any) -> EndpointConfig:
    name = entry.name.strip()
    if not name:
        raise fail("required: a name for the endpoint", f"{key}.name")
    url = entry.url.strip()
    if not url:
        raise fail("required: the URL events are posted to", f"{key}.url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(f"expected an http:// or https:// URL with a host, got {url!r}", f"{key}.url")
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if not port_ok:
        raise fail(f"invalid port in {url!r}", f"{key}.url")
    for action in entry.ignore_actions:
        if action not in ACTIONS:
            raise fail(
                f"unknown action {action!r}, expected some of: {', '.join(ACTIONS)}",
                f"{key}.ignore.actions",
            )
    for what in ("timeout", "backoff"):
        if getattr(entry, what) < 0:
            raise fail(f"must not be negative, got {getattr(entry, what)}s", f"{key}.{what}")
    for header, values in entry.headers.items():
        if any("\r" in item or "\n" in item for item in values) or not header.strip():
            raise fail(
                "header names and values must be single-line text", f"{key}.headers.{header}"
            )
    return EndpointConfig(
        name=name,
        url=url,
        headers=dict(entry.headers),
        timeout=entry.timeout or DEFAULT_TIMEOUT,
        threshold=entry.threshold or DEFAULT_THRESHOLD,
        backoff=entry.backoff or DEFAULT_BACKOFF,
        ignored_media_types=frozenset(entry.ignoredmediatypes + entry.ignore_mediatypes),
        ignored_actions=frozenset(entry.ignore_actions),
    )
