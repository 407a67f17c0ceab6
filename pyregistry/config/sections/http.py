"""``http``: the listener, TLS, the debug server, and pyregistry's connection limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.config.declare import section, setting
from pyregistry.config.schema import (
    BOOL,
    DURATION,
    HEADERS,
    INT,
    STR,
    STRLIST,
    ListOf,
    Scalar,
    Struct,
)
from pyregistry.config.schema import struct as s

_CLIENT_AUTH = (
    "request-client-cert",
    "require-any-client-cert",
    "verify-client-cert-if-given",
    "require-and-verify-client-cert",
)
_RATE = Struct({"method": STR, "rate": INT}, required=("method", "rate"))


@dataclass
class TLSConfig:
    certificate: str | None = setting(STR)
    key: str | None = setting(STR)
    clientcas: list[str] = setting(STRLIST, factory=list)
    minimumtls: str | None = setting(Scalar("choice", ("tls1.0", "tls1.1", "tls1.2", "tls1.3")))
    #: Go cipher suite names (``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``)
    ciphersuites: list[str] = setting(STRLIST, factory=list)
    #: distribution 3's ``clientauth`` mode; None means require-and-verify when clientcas set
    clientauth: str | None = setting(Scalar("choice", _CLIENT_AUTH))
    letsencrypt: dict[str, Any] = setting(
        s(cachefile=STR, email=STR, hosts=STRLIST, directoryurl=STR), factory=dict
    )


@dataclass
class DebugConfig:
    addr: str | None = setting(STR)
    prometheus_enabled: bool = setting(BOOL, "prometheus.enabled", default=False)
    prometheus_path: str = setting(STR, "prometheus.path", default="/metrics")


def _methods(items: list[dict[str, Any]]) -> dict[str, int]:
    return {str(item["method"]).upper(): item["rate"] for item in items}


@dataclass
class HTTPConfig:
    addr: str = setting(STR, default=":5000")
    net: str = setting(Scalar("choice", ("tcp", "tcp4", "tcp6", "unix")), default="tcp")
    host: str | None = setting(STR)
    prefix: str = setting(STR, default="/")
    #: accepted, not acted on (nothing is signed)
    secret: str | None = setting(STR)
    relativeurls: bool = setting(BOOL, default=False)
    draintimeout_seconds: float = setting(DURATION, "draintimeout", default=0.0)
    headers: dict[str, list[str]] = setting(HEADERS, factory=dict)
    tls: TLSConfig = setting(section(TLSConfig), factory=TLSConfig)
    debug: DebugConfig = setting(section(DebugConfig), factory=DebugConfig)
    http2_disabled: bool = setting(BOOL, "http2.disabled", default=False)
    h2c_enabled: bool = setting(BOOL, "h2c.enabled", default=False)
    #: pyregistry: ``http.timeouts.header`` / ``.idle`` (0: the built-in defaults)
    timeouts_header_seconds: float = setting(DURATION, "timeouts.header", default=0.0)
    timeouts_idle_seconds: float = setting(DURATION, "timeouts.idle", default=0.0)
    #: pyregistry: ``http.maxconnections`` per process (0: below the open-file limit)
    maxconnections: int = setting(INT, default=0)
    #: pyregistry: ``http.ratelimit`` as zot spells it: requests per second, overall
    #: (``rate``) and per method (``methods``); None/empty: no limit
    ratelimit_rate: int | None = setting(INT, "ratelimit.rate")
    ratelimit_methods: dict[str, int] = setting(
        ListOf(_RATE), "ratelimit.methods", factory=dict, convert=_methods
    )
