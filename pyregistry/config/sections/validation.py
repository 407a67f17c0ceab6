"""``validation``: which manifests a push may hold, as written; the compiled policy is
:func:`pyregistry.config.validation.validation_policy`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.config.declare import Section, setting
from pyregistry.config.schema import BOOL, STR, STRLIST, ListOf, Scalar
from pyregistry.config.schema import struct as s


@dataclass(eq=False)
class ValidationConfig(Section):
    NAME = "validation"

    enabled: bool = setting(BOOL, default=False)
    disabled: bool = setting(BOOL, default=False)
    #: pyregistry: accept manifests whose blobs or children are absent
    sparse: bool = setting(BOOL, "manifests.sparse", default=False)
    url_allow: list[str] = setting(STRLIST, "manifests.urls.allow", factory=list)
    url_deny: list[str] = setting(STRLIST, "manifests.urls.deny", factory=list)
    platforms: str = setting(
        Scalar("choice", ("all", "none", "list")), "manifests.indexes.platforms", default="all"
    )
    platformlist: list[dict[str, Any]] = setting(
        ListOf(s(architecture=STR, os=STR, variant=STR)),
        "manifests.indexes.platformlist",
        factory=list,
    )
