"""Webhook notifications, as distribution's ``notifications`` config section describes,
made durable: events are queued in a local SQLite file and delivered at least once, in
order, per endpoint (see ``docs/notifications.md``).

Wiring (done by :func:`pyregistry.app.create_app`): ``notifier = build_notifier(config,
registry)`` (None without active endpoints) is one of the sinks of the storage-side
wrapper :class:`~pyregistry.notifications.listener.NotifyingNamespace`;
``await notifier.start()`` once the app has started and ``await notifier.stop()`` on
shutdown.
"""

from __future__ import annotations

import os

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config
from pyregistry.notifications.config import (
    EndpointConfig,
    NotificationsConfig,
    parse_notifications,
)
from pyregistry.notifications.events import EVENTS_MEDIA_TYPE, EventBuilder
from pyregistry.notifications.notifier import Notifier
from pyregistry.notifications.queue import EventQueue
from pyregistry.storage.interfaces import Namespace


def build_notifier(config: Config, registry: Namespace | None = None) -> Notifier | None:
    """The notifier ``config`` asks for, its queue opened; None without active endpoints.

    Raises :class:`ConfigError` for a bad ``notifications`` section or a queue directory
    that cannot be used, so the registry refuses to start rather than lose events.
    """
    settings = parse_notifications(config)
    if not settings.endpoints:
        return None
    try:
        queue = EventQueue(settings.queue_directory)
    except Exception as exc:  # noqa: BLE001 - OSError, or sqlite3.Error for a file that is not a queue
        where = os.path.abspath(settings.queue_directory)
        raise ConfigError(
            f"cannot open the notification queue in {where}: {exc}",
            key="notifications.queue.directory",
            source=config.source,
        ) from None
    builder = EventBuilder(
        config.http, registry=registry, include_references=settings.include_references
    )
    return Notifier(settings, builder, queue)


__all__ = [
    "EVENTS_MEDIA_TYPE",
    "EndpointConfig",
    "NotificationsConfig",
    "Notifier",
    "build_notifier",
    "parse_notifications",
]
