"""Replication between registries (docs/replication.md): push policies driven by this
registry's own changes through a durable queue on its storage, pull policies polling a
remote, full syncs on demand; filtered, renamed, delete-aware and loop-free.

Wiring (done by :func:`pyregistry.app.create_app`): ``service = build_replication(config,
registry)`` (None without policies) gives :attr:`ReplicationService.sink` to the namespace
wrapper, is :meth:`~ReplicationService.attach`-ed to the wrapped namespace and
:meth:`~ReplicationService.register`-ed with the scheduler; ``aclose`` on shutdown.
"""

from __future__ import annotations

from collections.abc import Callable

from pyregistry.config.model import Config
from pyregistry.debug import expvar
from pyregistry.replication.service import ReplicationService
from pyregistry.replication.view import VARS_NAME, StoredView
from pyregistry.storage import Registry
from storage_drivers.base import StorageDriver


def build_replication(config: Config, registry: Registry) -> ReplicationService | None:
    """The service ``config.replication`` describes; None when it has no policies."""
    if not config.replication.policies:
        return None
    service = ReplicationService(
        config.replication, registry, registry.driver, source=config.source
    )
    expvar.publish(VARS_NAME, service.snapshot)
    publish_vars(config, lambda: registry.driver, service)
    return service


def publish_vars(
    config: Config,
    driver: Callable[[], StorageDriver],
    service: ReplicationService | None = None,
) -> None:
    """Show replication on ``/debug/vars`` as storage has it (any process: the supervisor
    of several workers calls this with a driver of its own)."""
    if config.replication.policies:
        expvar.publish_async(VARS_NAME, StoredView(config.replication, driver, service))


__all__ = ["ReplicationService", "build_replication", "publish_vars"]
