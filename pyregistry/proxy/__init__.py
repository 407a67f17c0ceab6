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


def mirror_namespace(registry: Registry, config: Config) -> MirrorNamespace | None:
    """The registry wrapped for the configured upstreams; None when nothing is mirrored."""
    upstreams = upstreams_from_config(config)
    if not upstreams:
        return None
    return MirrorNamespace(registry, upstreams)


__all__ = [
    "MirrorNamespace",
    "MirroredRepository",
    "UpstreamSettings",
    "mirror_namespace",
    "upstream_for",
    "upstreams_from_config",
]
