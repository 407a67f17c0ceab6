"""The ``swift`` driver's options: distribution 2.8's names, defaults and bounds.

Values may arrive as strings (``REGISTRY_STORAGE_SWIFT_*`` environment overrides), so
every option is coerced here and the rest of the driver only sees typed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CHUNK_SIZE = 20 << 20
MIN_CHUNK_SIZE = 1 << 20
ENDPOINT_TYPES = ("public", "internal", "admin")

_STRINGS = (
    "authurl",
    "username",
    "password",
    "container",
    "prefix",
    "tenant",
    "tenantid",
    "domain",
    "domainid",
    "tenantdomain",
    "tenantdomainid",
    "trustid",
    "region",
    "secretkey",
    "accesskey",
)
KNOWN = frozenset(
    _STRINGS
    + ("authversion", "endpointtype", "insecureskipverify", "chunksize")
    + ("tempurlcontainerkey", "tempurlmethods")
)


@dataclass(frozen=True, slots=True)
class SwiftParameters:
    """Typed, validated options; field names are distribution's (lower-cased)."""

    authurl: str
    username: str
    password: str
    container: str
    prefix: str = ""
    tenant: str = ""
    tenantid: str = ""
    domain: str = ""
    domainid: str = ""
    tenantdomain: str = ""
    tenantdomainid: str = ""
    trustid: str = ""
    region: str = ""
    authversion: int = 0
    endpointtype: str = "public"
    insecureskipverify: bool = False
    chunksize: int = DEFAULT_CHUNK_SIZE
    secretkey: str = ""
    accesskey: str = ""
    tempurlcontainerkey: bool = False
    tempurlmethods: tuple[str, ...] = field(default_factory=tuple)

    @property
    def auth_version(self) -> int:
        """The configured version, else guessed from the URL as distribution's client does."""
        if self.authversion:
            return self.authversion
        url = self.authurl.lower()
        for version in (3, 2, 1):
            if f"v{version}" in url:
                return version
        raise ValueError(
            f"swift: cannot tell the auth version from authurl {self.authurl!r}; "
            "set authversion to 1, 2 or 3"
        )


def _bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off", ""):
        return False
    raise ValueError(f"swift: {name} must be true or false, not {value!r}")


def _int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"swift: {name} must be an integer, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 0)
        except ValueError:
            pass
    raise ValueError(f"swift: {name} must be an integer, not {value!r}")


def _methods(value: object) -> tuple[str, ...]:
    """A YAML list, or a comma/space separated string from an environment override."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.replace(",", " ").split())
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"swift: tempurlmethods must be a list of HTTP methods, not {value!r}")
    return tuple(str(m).strip().upper() for m in items if str(m).strip())


def parse_parameters(parameters: Mapping[str, Any]) -> SwiftParameters:
    """Validate and coerce a ``storage.swift`` mapping; ValueError says what is wrong."""
    raw = {str(k).lower(): v for k, v in parameters.items()}
    unknown = sorted(k for k in raw if k not in KNOWN)
    if unknown:
        raise ValueError(
            f"swift: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN))}"
        )
    values: dict[str, Any] = {}
    for name in _STRINGS:
        value = raw.get(name)
        values[name] = "" if value is None else str(value)
    for name in ("authurl", "username", "password", "container"):
        if not values[name]:
            raise ValueError(f"swift: no {name} parameter provided")
    if "/" in values["container"]:
        raise ValueError(f"swift: container {values['container']!r} must not contain '/'")
    if raw.get("authversion") not in (None, ""):
        values["authversion"] = _int("authversion", raw["authversion"])
        if values["authversion"] not in (1, 2, 3):
            raise ValueError(f"swift: authversion must be 1, 2 or 3, not {raw['authversion']!r}")
    endpoint = str(raw.get("endpointtype") or "public").strip().lower()
    if endpoint not in ENDPOINT_TYPES:
        raise ValueError(f"swift: endpointtype must be one of {ENDPOINT_TYPES}, not {endpoint!r}")
    values["endpointtype"] = endpoint
    if raw.get("chunksize") not in (None, ""):
        values["chunksize"] = _int("chunksize", raw["chunksize"])
        if values["chunksize"] < MIN_CHUNK_SIZE:
            raise ValueError(
                f"swift: chunksize {values['chunksize']} must be at least {MIN_CHUNK_SIZE}"
            )
    for name in ("insecureskipverify", "tempurlcontainerkey"):
        if name in raw:
            values[name] = _bool(name, raw[name])
    values["tempurlmethods"] = _methods(raw.get("tempurlmethods"))
    params = SwiftParameters(**values)
    params.auth_version  # noqa: B018 - fail at start-up, not on the first request
    return params
