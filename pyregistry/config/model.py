"""The whole ``config.yml`` as typed settings, and its shape (``SCHEMA``), derived from the
section classes in :mod:`pyregistry.config.sections`.

Sections pyregistry acts on are typed (``config.http.tls.certificate``,
``config.notifications.endpoints[0].timeout`` in seconds...); the sections it refuses
when they ask for something stay checked mappings
(:mod:`pyregistry.config.sections.accepted`). Defaults follow distribution's.

A Config built in code may give a typed section as the mapping ``config.yml`` would hold
(``Config(catalog={"maxentries": 5})``): it is checked and converted like a file's.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyregistry.config.declare import Section, build, convert, shape_of
from pyregistry.config.schema import (
    LEVEL,
    STR,
    Node,
    Struct,
    check,
)
from pyregistry.config.sections.accepted import SHAPES as ACCEPTED
from pyregistry.config.sections.auth import SHAPE as AUTH_SHAPE
from pyregistry.config.sections.auth import AuthConfig
from pyregistry.config.sections.health import HealthConfig
from pyregistry.config.sections.http import DebugConfig, HTTPConfig, TLSConfig
from pyregistry.config.sections.log import LogConfig
from pyregistry.config.sections.management import ManagementConfig
from pyregistry.config.sections.mirrors import MIRRORS_SHAPE, MirrorEntry
from pyregistry.config.sections.notifications import EndpointSettings, NotificationsSection
from pyregistry.config.sections.redis import RedisConfig
from pyregistry.config.sections.replication import ReplicationSection
from pyregistry.config.sections.small import CatalogConfig, IndexConfig
from pyregistry.config.sections.storage import SHAPE as STORAGE_SHAPE
from pyregistry.config.sections.storage import StorageConfig
from pyregistry.config.sections.ui import UIConfig
from pyregistry.config.sections.validation import ValidationConfig

__all__ = [
    "SCHEMA",
    "AuthConfig",
    "CatalogConfig",
    "Config",
    "DebugConfig",
    "EndpointSettings",
    "HealthConfig",
    "HTTPConfig",
    "IndexConfig",
    "LogConfig",
    "ManagementConfig",
    "MirrorEntry",
    "NotificationsSection",
    "RedisConfig",
    "ReplicationSection",
    "StorageConfig",
    "TLSConfig",
    "UIConfig",
    "ValidationConfig",
]

#: Sections read into a settings class by :func:`pyregistry.config.declare.build`.
TYPED: dict[str, type] = {
    "log": LogConfig,
    "http": HTTPConfig,
    "redis": RedisConfig,
    "notifications": NotificationsSection,
    "validation": ValidationConfig,
    "catalog": CatalogConfig,
    "index": IndexConfig,
    "health": HealthConfig,
    "auth": AuthConfig,
    "management": ManagementConfig,
    "replication": ReplicationSection,
    "ui": UIConfig,
}
_SHAPES: dict[str, Node] = {
    "version": STR,
    "loglevel": LEVEL,
    "storage": STORAGE_SHAPE,
    **{name: shape_of(cls) for name, cls in TYPED.items() if name != "auth"},
    "auth": AUTH_SHAPE,
    **ACCEPTED,
    # pyregistry: upstreams mirrored under prefixes (pyregistry.proxy)
    "mirrors": MIRRORS_SHAPE,
}
#: Every key distribution knows (2.8 and 3.x spellings), plus pyregistry's own.
SCHEMA = Struct(_SHAPES)


def typed_section(name: str, section: Mapping[str, Any], source: str = "<document>") -> Any:
    """A section as written (not yet checked) -> its settings class; ConfigError if bad."""
    cls = TYPED[name]
    if issubclass(cls, Section):
        return cls.read(section, source)
    checked = check(_SHAPES[name], copy.deepcopy(dict(section)), name, source)
    return build(TYPED[name], checked)


@dataclass
class Config:
    version: str = "0.1"
    log: LogConfig = field(default_factory=LogConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    http: HTTPConfig = field(default_factory=HTTPConfig)
    redis: RedisConfig | None = None
    notifications: NotificationsSection = field(default_factory=NotificationsSection)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    management: ManagementConfig = field(default_factory=ManagementConfig)
    replication: ReplicationSection = field(default_factory=ReplicationSection)
    #: pyregistry's upstreams under prefixes (distribution's ``proxy`` is below)
    mirrors: list[MirrorEntry] = field(default_factory=list)
    ui: UIConfig = field(default_factory=UIConfig)
    #: Checked mappings, parsed by the features that own them.
    proxy: dict[str, Any] = field(default_factory=dict)
    middleware: dict[str, Any] = field(default_factory=dict)
    compatibility: dict[str, Any] = field(default_factory=dict)
    reporting: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    #: The whole document after environment overrides (for tools that rewrite it).
    raw: dict[str, Any] = field(default_factory=dict)
    #: Where it came from, for error messages.
    source: str = "<defaults>"
    #: The file it was read from (None: built-in defaults); workers reload from it.
    path: str | None = None
    #: Things worth logging once logging is set up (ignored environment variables...).
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        raw = self.raw if isinstance(self.raw, Mapping) else {}
        written = self.mirrors or raw.get("mirrors")
        if written and any(isinstance(entry, Mapping) for entry in written):
            # given as config.yml holds it (in code, or only in the document)
            checked = check(MIRRORS_SHAPE, copy.deepcopy(list(written)), "mirrors", self.source)
            self.mirrors = convert(MIRRORS_SHAPE, checked)
        for name in TYPED:
            value = getattr(self, name)
            if isinstance(value, Mapping) and not isinstance(value, Section):
                setattr(self, name, typed_section(name, value, self.source))
            elif self._unset(name, value) and name in self.raw:
                # a Config given only its document: read the section from it
                section = self.raw.get(name)
                if isinstance(section, Mapping) and section:
                    setattr(self, name, typed_section(name, section, self.source))

    @staticmethod
    def _unset(name: str, value: Any) -> bool:
        if value is None or (isinstance(value, Section) and not value):
            return True
        return bool(value == TYPED[name]())
