"""The ``validation`` section as distribution applies it: which manifests a push may hold.

* ``disabled: true`` (unless ``enabled: true`` overrides it, as in distribution) turns
  every check below off.
* ``manifests.urls``: URLs in layer descriptors (foreign and non-distributable layers)
  must be ``http``/``https`` without a fragment, match one ``allow`` pattern when ``allow``
  is set and no ``deny`` pattern when ``deny`` is set. Patterns are regular expressions,
  compiled once here, so a bad one stops start-up naming its key. One deliberate
  difference: with neither list set distribution refuses every URL, pyregistry accepts
  any well-formed one, so that non-distributable images push without configuration.
* ``manifests.indexes.platforms``: ``all`` (the default) - every child manifest of an
  index must be in the repository; ``none`` - sparse indexes are accepted; ``list`` -
  only children whose platform matches ``platformlist`` (architecture and os) must be
  there (all of them when the list is empty, and children without a platform always).
* ``manifests.sparse: true`` (a pyregistry key): sparse manifests are accepted - an image
  manifest whose config or layers are not in the repository, an index whose children are
  not. Mirrors and partial replication produce them; the OCI spec allows a registry to
  accept them. It is a key of its own, not implied by ``disabled``: distribution (3.1)
  refuses a sparse image manifest even with validation disabled, and a configuration
  written for it should keep meaning the same here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pyregistry.config.errors import ConfigError
from pyregistry.config.sections.validation import ValidationConfig

INDEXES_ALL = "all"
INDEXES_NONE = "none"
INDEXES_LIST = "list"


@dataclass(frozen=True)
class ValidationPolicy:
    enabled: bool = True
    url_allow: re.Pattern[str] | None = None
    url_deny: re.Pattern[str] | None = None
    index_platforms: str = INDEXES_ALL
    #: ``(architecture, os)`` pairs whose child manifests must exist (``list`` mode).
    platform_list: tuple[tuple[str, str], ...] = field(default=())
    #: ``manifests.sparse``: referenced blobs and child manifests may be absent.
    sparse: bool = False

    @property
    def index_children_required(self) -> bool:
        """Every child of an index must exist (the storage layer checks it)."""
        return self.enabled and not self.sparse and self.index_platforms == INDEXES_ALL

    @property
    def blobs_required(self) -> bool:
        """An image manifest's config and layers must exist (the storage layer checks it)."""
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


def _patterns(values: Any, key: str, source: str | None) -> re.Pattern[str] | None:
    """Several patterns as one (any may match), each checked on its own for a clear error."""
    if not values:
        return None
    parts = []
    for i, value in enumerate(values):
        try:
            re.compile(str(value))
        except re.error as exc:
            raise ConfigError(
                f"invalid regular expression {value!r}: {exc}", key=f"{key}[{i}]", source=source
            ) from None
        parts.append(f"(?:{value})")
    return re.compile("|".join(parts))


def validation_policy(
    section: ValidationConfig | None = None, source: str | None = None
) -> ValidationPolicy:
    """The policy a ``validation`` section describes; ConfigError for patterns that do not
    compile."""
    section = section or ValidationConfig()
    platform_list = tuple(
        (str(p.get("architecture")), str(p.get("os"))) for p in section.platformlist
    )
    return ValidationPolicy(
        enabled=section.enabled or not section.disabled,
        url_allow=_patterns(section.url_allow, "validation.manifests.urls.allow", source),
        url_deny=_patterns(section.url_deny, "validation.manifests.urls.deny", source),
        index_platforms=section.platforms,
        platform_list=platform_list,
        sparse=section.sparse,
    )
