"""The rules a deployment chooses for manifest pushes (the config's ``validation``
section), checked behind ``ManifestService.put`` on the manifest parsed once.

What every registry must check (valid JSON, a supported media type, the size limit, the
blobs an image needs) is not optional and lives in ``manifest_format`` and
``manifests``; what is chosen here:

* ``enabled`` False (``validation.disabled: true``) turns every rule below off;
* layer URLs (foreign and non-distributable layers) must be ``http``/``https`` without a
  fragment, match ``url_allow`` when set and not match ``url_deny`` when set;
* ``index_platforms``: ``all`` - every child of an index must be in the repository;
  ``none`` - sparse indexes are accepted; ``list`` - only children whose platform is in
  ``platform_list`` (all when it is empty, and children without a platform always);
* ``sparse`` (``manifests.sparse``, not turned off by ``enabled``): an image manifest's
  config and layers and an index's children may all be absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pyregistry.storage.errors import ManifestInvalid
from pyregistry.storage.manifest_format import Descriptor, ParsedManifest

INDEXES_ALL = "all"
INDEXES_NONE = "none"
INDEXES_LIST = "list"

#: distribution 3's default limit; larger manifests are refused before parsing.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class ManifestPolicy:
    enabled: bool = True
    url_allow: re.Pattern[str] | None = None
    url_deny: re.Pattern[str] | None = None
    index_platforms: str = INDEXES_ALL
    #: ``(architecture, os)`` pairs whose child manifests must exist (``list`` mode).
    platform_list: tuple[tuple[str, str], ...] = field(default=())
    #: ``manifests.sparse``: referenced blobs and child manifests may be absent.
    sparse: bool = False
    #: Larger manifests are refused with MANIFEST_TOO_LARGE (413) before parsing.
    max_manifest_size: int = MAX_MANIFEST_SIZE

    @property
    def index_children_required(self) -> bool:
        """Every child of an index must exist."""
        return self.enabled and not self.sparse and self.index_platforms == INDEXES_ALL

    @property
    def blobs_required(self) -> bool:
        """An image manifest's config and layers must exist."""
        return not self.sparse

    def url_allowed(self, url: str) -> bool:
        if not self.enabled:
            return True
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not rest or "#" in url:
            return False
        if self.url_allow is not None and not self.url_allow.search(url):
            return False
        return self.url_deny is None or not self.url_deny.search(url)

    def platform_must_exist(self, platform: Any) -> bool:
        """Whether an index child with this ``platform`` must already be in the repository."""
        if not self.enabled or self.sparse or self.index_platforms == INDEXES_NONE:
            return False
        if self.index_platforms == INDEXES_ALL or not self.platform_list:
            return True
        if not isinstance(platform, dict):
            return True
        wanted = (platform.get("architecture"), platform.get("os"))
        return wanted in self.platform_list

    def check_layer_urls(self, manifest: ParsedManifest) -> None:
        """Every URL of every layer must be one the policy allows (MANIFEST_INVALID)."""
        for layer in manifest.layers:
            for url in layer.urls:
                if not self.url_allowed(url):
                    raise ManifestInvalid(
                        f"layer URL {url!r} is not allowed by this registry",
                        detail={"digest": str(layer.digest), "url": url},
                    )

    def required_children(self, manifest: ParsedManifest) -> list[Descriptor]:
        """The children of an index that must already be in the repository."""
        return [c for c in manifest.manifests if self.platform_must_exist(c.platform)]
