"""Registry errors as HTTP responses, and the few errors only the HTTP layer raises.

Every error's code, message and status come from the one table in
:mod:`pyregistry.errcode`; :func:`error_response` is the one writer of the spec's
``{"errors": [...]}`` answers, for the API, auth refusals, the rate limit and the health
gate alike.
"""

from __future__ import annotations

from starlette.responses import Response

from pyregistry import errcode
from pyregistry.errcode import RegistryError, error_body

__all__ = [
    "InternalError",
    "MethodNotAllowed",
    "PaginationNumberInvalid",
    "RangeNotSatisfiable",
    "RouteUnknown",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UploadRangeInvalid",
    "error_body",
    "error_response",
]


class Unauthorized(RegistryError):
    """401; auth puts its ``WWW-Authenticate`` challenge in ``headers``."""

    descriptor = errcode.UNAUTHORIZED


class TooManyRequests(RegistryError):
    descriptor = errcode.TOOMANYREQUESTS


class PaginationNumberInvalid(RegistryError):
    descriptor = errcode.PAGINATION_NUMBER_INVALID


class RouteUnknown(RegistryError):
    """No API endpoint at this path (the spec has no code for it; UNSUPPORTED, as 404)."""

    descriptor = errcode.ROUTE_UNKNOWN


class MethodNotAllowed(RegistryError):
    """The endpoint exists but not for this method (or the registry is read-only)."""

    descriptor = errcode.UNSUPPORTED


class RangeNotSatisfiable(RegistryError):
    """A blob ``Range`` request outside the blob; answered with ``Content-Range``."""

    descriptor = errcode.RANGE_NOT_SATISFIABLE

    def __init__(self, size: int, requested: str) -> None:
        super().__init__(
            detail={"range": requested, "size": size},
            headers={"Content-Range": f"bytes */{size}"},
        )


class UploadRangeInvalid(RegistryError):
    """A chunk that does not continue the upload session, answered with where it stands."""

    descriptor = errcode.RANGE_INVALID


class ServiceUnavailable(RegistryError):
    """A failing health check takes the registry out of service."""

    descriptor = errcode.UNAVAILABLE


class InternalError(RegistryError):
    descriptor = errcode.UNKNOWN


def error_response(exc: RegistryError, *, head: bool = False) -> Response:
    """A complete response for ``exc``; for HEAD the body is left out but counted."""
    body = error_body(exc)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
    }
    headers.update(exc.headers)
    return Response(b"" if head else body, status_code=exc.status, headers=headers)
