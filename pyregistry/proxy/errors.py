"""What a client of the mirror sees when the upstream cannot answer: OCI JSON errors
with a status, never a hang or a 500 traceback.

Upstream 404 (and 401/403: an upstream that will not show it to us) is "unknown" here;
429 passes on as ``TOOMANYREQUESTS`` with its ``Retry-After``; anything else (refused
connection, timeout, 5xx, a digest that does not match) is ``UNAVAILABLE`` (503).
"""

from __future__ import annotations

import logging

import httpx

from pyregistry import errcode
from pyregistry.client.errors import (
    DeniedError,
    NotFoundError,
    RegistryClientError,
    TooManyRequestsError,
    UnauthorizedError,
)
from pyregistry.errcode import RegistryError
from pyregistry.storage.errors import StorageError

log = logging.getLogger("pyregistry.proxy")

#: What an upstream call can raise: the client's errors, httpx's, and the OS's.
UPSTREAM_FAILURES = (RegistryClientError, httpx.HTTPError, OSError)

UPSTREAM_UNAVAILABLE = errcode.register(
    "UPSTREAM_UNAVAILABLE",
    "UNAVAILABLE",
    "the upstream registry is unavailable and the content is not cached",
    503,
)
UPSTREAM_TOOMANYREQUESTS = errcode.register(
    "UPSTREAM_TOOMANYREQUESTS", "TOOMANYREQUESTS", "the upstream registry asks to slow down", 429
)


class UpstreamUnavailable(StorageError):
    """A backend failure as storage's are (one log line, no traceback), answered 503."""

    descriptor = UPSTREAM_UNAVAILABLE


class UpstreamTooManyRequests(RegistryError):
    descriptor = UPSTREAM_TOOMANYREQUESTS

    def __init__(self, message: str | None = None, *, retry_after: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": retry_after} if retry_after else None)


def is_unknown(exc: BaseException) -> bool:
    """The upstream says it has no such thing (or will not show it)."""
    return isinstance(exc, (NotFoundError, UnauthorizedError, DeniedError))


def translate(exc: BaseException, upstream: str, unknown: RegistryError) -> RegistryError:
    """The error to answer for an upstream failure; ``unknown`` for its 404."""
    if is_unknown(exc):
        if not isinstance(exc, NotFoundError):
            log.warning("upstream %s refused access: %s", upstream, exc)
        return unknown
    if isinstance(exc, TooManyRequestsError):
        retry_after = {k.lower(): v for k, v in exc.headers.items()}.get("retry-after")
        return UpstreamTooManyRequests(retry_after=retry_after)
    log.warning("upstream %s failed: %s", upstream, exc)
    return UpstreamUnavailable(detail={"upstream": upstream})
