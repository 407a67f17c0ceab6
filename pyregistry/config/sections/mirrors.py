"""``mirrors``: pyregistry's upstream registries mirrored under repository-name prefixes
(docs/mirror.md), beside distribution's one-upstream ``proxy`` section. Read into
:class:`pyregistry.proxy.settings.UpstreamSettings` (defaults, prefix rules) by the mirror.

Durations left unset stay None here, so the mirror applies its own defaults (``expire``:
distribution's 168h, ``timeout``: 60s, ``ttl``: every pull).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.declare import section, setting
from pyregistry.config.schema import BOOL, DURATION, STR, STRLIST, ListOf
from pyregistry.config.sections.credential_helper import HelperSettings


@dataclass
class MirrorEntry:
    """One upstream and the prefix its repositories live under."""

    prefix: str = setting(STR, default="", required=True)
    url: str = setting(STR, default="", required=True)
    username: str | None = setting(STR)
    password: str | None = setting(STR)
    exec: HelperSettings = setting(section(HelperSettings), factory=HelperSettings)
    #: a CA file to trust for the upstream's certificate
    ca: str | None = setting(STR)
    insecure: bool = setting(BOOL, default=False)
    #: how long a cached tag is served before it is re-checked upstream
    ttl: float | None = setting(DURATION)
    #: how long cached content nobody pulled is kept
    expire: float | None = setting(DURATION)
    allow: list[str] = setting(STRLIST, factory=list)
    localfirst: bool = setting(BOOL, default=False)
    library: bool = setting(BOOL, default=False)
    timeout: float | None = setting(DURATION)


#: The section's shape: a list of entries.
MIRRORS_SHAPE = ListOf(section(MirrorEntry))
