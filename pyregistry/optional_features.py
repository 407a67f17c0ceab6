"""The features a plain registry does not use, imported only when the config asks for them.

Mirroring, replication and notifications bring the outbound HTTP client (httpx and
``pyregistry.client``) and some hundred modules: about 6 MiB per worker process, with
one worker per core, for a registry that never calls out. Each function here answers
None from the config alone when its feature is off (the same test the feature's own
builder makes first), and otherwise imports and calls that builder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyregistry.config.model import Config
from pyregistry.events import EventSink
from pyregistry.storage import Registry
from pyregistry.storage.interfaces import Namespace

if TYPE_CHECKING:
    from pyregistry.notifications import Notifier
    from pyregistry.proxy import MirrorNamespace
    from pyregistry.replication import ReplicationService


def build_notifier(config: Config, registry: Registry) -> Notifier | None:
    """:func:`pyregistry.notifications.build_notifier`, when endpoints are configured."""
    if not config.notifications.endpoints:
        return None
    from pyregistry.notifications import build_notifier as build

    return build(config, registry)


def build_replication(config: Config, registry: Registry) -> ReplicationService | None:
    """:func:`pyregistry.replication.build_replication`, when policies are configured."""
    if not config.replication.policies:
        return None
    from pyregistry.replication import build_replication as build

    return build(config, registry)


def mirror_namespace(registry: Registry, config: Config) -> MirrorNamespace | None:
    """:func:`pyregistry.proxy.mirror_namespace`, when ``proxy`` or ``mirrors`` is set
    (any value in ``proxy``: the proxy settings report what is missing)."""
    if not config.mirrors and not any(v is not None for v in config.proxy.values()):
        return None
    from pyregistry.proxy import mirror_namespace as build

    return build(registry, config)


def notifying_namespace(namespace: Namespace, sink: EventSink) -> Namespace:
    """``namespace`` announcing its changes to ``sink``."""
    from pyregistry.notifications.listener import NotifyingNamespace

    return NotifyingNamespace(namespace, sink)
