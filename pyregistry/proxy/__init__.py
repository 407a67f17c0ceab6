"""The pull-through cache: repositories mirrored from upstream registries.

distribution's ``proxy`` section mirrors one upstream for every repository; pyregistry's
``mirrors`` list maps several upstreams to repository-name prefixes beside normal
repositories (docs/mirror.md). :func:`mirror_namespace` wraps the core registry the API
uses when either is configured; it is the only wiring point (``pyregistry.app``).
"""

from __future__ import annotations

from pyregistry.config.model import Config
from pyregistry.proxy.repository import MirroredRepository, MirrorNamespace
from pyregistry.proxy.settings import UpstreamSettings, upstream_for, upstreams_from_config
from pyregistry.storage import Registry
from pyregistry.tasks.leases import lease_factory


def mirror_namespace(registry: Registry, config: Config) -> MirrorNamespace | None:
    """The registry wrapped for the configured upstreams; None when nothing is mirrored.
    Its fetch leases (one upstream fetch per blob across processes) use Redis when the
    config has it, else the storage (see :mod:`pyregistry.proxy.fetch_leases`)."""
    upstreams = upstreams_from_config(config)
    if not upstreams:
        return None
    return MirrorNamespace(registry, upstreams, lease_factory(config, registry.driver))


__all__ = [
    "MirrorNamespace",
    "MirroredRepository",
    "UpstreamSettings",
    "mirror_namespace",
    "upstream_for",
    "upstreams_from_config",
]
