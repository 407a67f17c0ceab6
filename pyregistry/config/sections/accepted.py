"""Sections kept as checked mappings: ``middleware``, ``reporting``, ``compatibility``
and ``policy`` are refused when they ask for something (see
:mod:`pyregistry.config.support`); ``proxy`` is read by :mod:`pyregistry.proxy.settings`.
Their keys are checked, so that a distribution ``config.yml`` loads.
"""

from __future__ import annotations

from pyregistry.config.schema import (
    ANY,
    BOOL,
    DURATION,
    STR,
    STRLIST,
    ListOf,
    MapOf,
    Node,
    Struct,
)
from pyregistry.config.schema import struct as s

_MIDDLEWARE = ListOf(
    Struct({"name": STR, "disabled": BOOL, "options": MapOf(ANY)}, required=("name",))
)

SHAPES: dict[str, Node] = {
    "middleware": s(registry=_MIDDLEWARE, repository=_MIDDLEWARE, storage=_MIDDLEWARE),
    "reporting": s(
        bugsnag=s(apikey=STR, releasestage=STR, endpoint=STR),
        newrelic=s(licensekey=STR, name=STR, verbose=BOOL),
    ),
    "proxy": s(
        remoteurl=STR,
        username=STR,
        password=STR,
        ttl=DURATION,
        remotenamespace=STR,
        exec=s(command=STR, lifetime=DURATION),
        # in distribution's own config-cache.yml example; no such option exists (the TTL is
        # ``ttl``) and distribution ignores it: accepted, ignored, warned about
        cacheTTL=DURATION,
    ),
    "compatibility": s(
        schema1=Struct(
            {"signingkeyfile": STR, "enabled": BOOL}, env_names={"TRUSTKEY": "signingkeyfile"}
        )
    ),
    "policy": s(repository=s(classes=STRLIST)),
}
