"""The registry's one error table: every error it can answer, with its code, default
message and HTTP status, registered once.

Distribution keeps such a table (``registry/api/errcode``); here it sits outside both the
storage layer and the HTTP layer so that each can name its errors without importing the
other. A :class:`Descriptor` is what an error *is*; :class:`RegistryError` (raised by the
storage layer, the API, auth and the edges) carries one, plus the message and detail of
one occurrence. The spec's wire ``code`` may repeat (``SIZE_INVALID`` is 400 for a bad
length, 413 for a manifest too large, 416 for a range outside the blob); the descriptor's
``name`` never does, so a different status is always its own entry, never a special case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One kind of error: ``name`` is unique across the registry, ``code`` is what the
    spec's ``{"errors": [{"code": ...}]}`` says."""

    name: str
    code: str
    message: str
    status: int


_TABLE: dict[str, Descriptor] = {}


def register(name: str, code: str, message: str, status: int) -> Descriptor:
    """Add an error to the table; a name can be registered once."""
    if name in _TABLE:
        raise ValueError(f"error {name!r} is already registered")
    descriptor = Descriptor(name, code, message, status)
    _TABLE[name] = descriptor
    return descriptor


def descriptors() -> list[Descriptor]:
    """Every registered error, in registration order."""
    return list(_TABLE.values())


# -- the spec's codes (OCI distribution spec, "Error Codes") -----------------------------
BLOB_UNKNOWN = register("BLOB_UNKNOWN", "BLOB_UNKNOWN", "blob unknown to registry", 404)
BLOB_UPLOAD_INVALID = register(
    "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_INVALID", "blob upload invalid", 400
)
BLOB_UPLOAD_UNKNOWN = register(
    "BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", 404
)
DIGEST_INVALID = register(
    "DIGEST_INVALID", "DIGEST_INVALID", "provided digest did not match uploaded content", 400
)
MANIFEST_BLOB_UNKNOWN = register(
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_BLOB_UNKNOWN",
    "manifest references a manifest or blob unknown to registry",
    400,
)
MANIFEST_INVALID = register("MANIFEST_INVALID", "MANIFEST_INVALID", "manifest invalid", 400)
MANIFEST_UNKNOWN = register(
    "MANIFEST_UNKNOWN", "MANIFEST_UNKNOWN", "manifest unknown to registry", 404
)
NAME_INVALID = register("NAME_INVALID", "NAME_INVALID", "invalid repository name", 400)
NAME_UNKNOWN = register(
    "NAME_UNKNOWN", "NAME_UNKNOWN", "repository name not known to registry", 404
)
SIZE_INVALID = register(
    "SIZE_INVALID", "SIZE_INVALID", "provided length did not match content length", 400
)
TAG_INVALID = register("TAG_INVALID", "TAG_INVALID", "invalid tag", 400)
UNAUTHORIZED = register("UNAUTHORIZED", "UNAUTHORIZED", "authentication required", 401)
DENIED = register("DENIED", "DENIED", "requested access to the resource is denied", 403)
UNSUPPORTED = register("UNSUPPORTED", "UNSUPPORTED", "the operation is unsupported", 405)
TOOMANYREQUESTS = register("TOOMANYREQUESTS", "TOOMANYREQUESTS", "too many requests", 429)

# -- distribution's extras ------------------------------------------------------------
UNKNOWN = register("UNKNOWN", "UNKNOWN", "unknown error", 500)
UNAVAILABLE = register("UNAVAILABLE", "UNAVAILABLE", "service unavailable", 503)
PAGINATION_NUMBER_INVALID = register(
    "PAGINATION_NUMBER_INVALID",
    "PAGINATION_NUMBER_INVALID",
    "invalid number of results requested",
    400,
)

# -- a spec code at another status, or in another situation ---------------------------
RANGE_INVALID = register(
    "RANGE_INVALID",
    "BLOB_UPLOAD_INVALID",
    "chunk out of order: the upload is at a different offset",
    416,
)
RANGE_NOT_SATISFIABLE = register(
    "RANGE_NOT_SATISFIABLE", "SIZE_INVALID", "requested range not satisfiable", 416
)
#: A blob GET or HEAD whose ``If-Match`` names another entity (Go's ``ServeContent``, so
#: distribution, answers 412); no OCI code names it.
PRECONDITION_FAILED = register(
    "PRECONDITION_FAILED", "UNSUPPORTED", "If-Match names another blob", 412
)
MANIFEST_TOO_LARGE = register("MANIFEST_TOO_LARGE", "SIZE_INVALID", "manifest too large", 413)
DIGEST_ALGORITHM_UNSUPPORTED = register(
    "DIGEST_ALGORITHM_UNSUPPORTED", "DIGEST_INVALID", "unsupported digest algorithm", 400
)
ROUTE_UNKNOWN = register("ROUTE_UNKNOWN", "UNSUPPORTED", "no such API endpoint", 404)
STORAGE_FAILED = register("STORAGE_FAILED", "UNKNOWN", "storage backend error", 500)
#: 507 so clients and operators see what is wrong (distribution answers a bare 500).
STORAGE_FULL = register(
    "STORAGE_FULL", "UNKNOWN", "insufficient storage: the registry's storage is full", 507
)
AUTH_CHECK_FAILED = register(
    "AUTH_CHECK_FAILED", "UNKNOWN", "authorization could not be checked", 500
)
#: The token service refuses a request it cannot read (bad ``scope``, other ``service``).
TOKEN_REQUEST_DENIED = register("TOKEN_REQUEST_DENIED", "DENIED", "token request denied", 400)
#: Answered by the connection guard before HTTP parsing, at the connection cap.
TOO_MANY_CONNECTIONS = register(
    "TOO_MANY_CONNECTIONS", "UNAVAILABLE", "too many connections, try again", 503
)
#: A request HTTP itself cannot parse (bad framing, a control byte in a header): answered by
#: the connection before any route; no OCI code names it, so UNSUPPORTED as a JSON body.
MALFORMED_REQUEST = register("MALFORMED_REQUEST", "UNSUPPORTED", "malformed HTTP request", 400)
#: A request line and headers over the size Go's HTTP server (so distribution) accepts.
HEADERS_TOO_LARGE = register(
    "HEADERS_TOO_LARGE", "UNSUPPORTED", "request line and headers too large", 431
)


class RegistryError(Exception):
    """An error the registry answers: its :class:`Descriptor` (the class's, or one given
    for this occurrence), plus the occurrence's message, ``detail`` (for the body) and
    extra response ``headers``."""

    descriptor: Descriptor = UNKNOWN

    def __init__(
        self,
        message: str | None = None,
        detail: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        descriptor: Descriptor | None = None,
    ) -> None:
        if descriptor is not None:
            self.descriptor = descriptor
        self.message = message or self.descriptor.message
        super().__init__(self.message)
        self.detail = detail
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def code(self) -> str:
        return self.descriptor.code

    @property
    def status(self) -> int:
        return self.descriptor.status

    @property
    def default_message(self) -> str:
        return self.descriptor.message


def error_body(*errors: RegistryError) -> bytes:
    """The spec's error document for one or more errors."""
    items = []
    for exc in errors:
        item: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.detail is not None:
            item["detail"] = exc.detail
        items.append(item)
    return json.dumps({"errors": items}, default=str).encode()
