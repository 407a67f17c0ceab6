"""Registry errors as HTTP responses: a status and the spec's ``{"errors": [...]}`` body.

The storage layer raises typed errors carrying an OCI code; this module owns the one
mapping from code to status, plus the few errors only the HTTP layer can raise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from pyregistry.storage.errors import ManifestTooLarge, RangeInvalid, RegistryError, StorageFull

#: Status for each error code (the spec's table plus distribution's extras).
STATUS_BY_CODE: dict[str, int] = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "MANIFEST_UNVERIFIED": 400,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "TAG_INVALID": 400,
    "PAGINATION_NUMBER_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
    "UNAVAILABLE": 503,
    "UNKNOWN": 500,
}


class ApiError(RegistryError):
    """An error raised by the HTTP layer; may force a status and add response headers."""

    status: int | None = None

    def __init__(
        self,
        message: str | None = None,
        detail: Any = None,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, detail)
        if status is not None:
            self.status = status
        self.headers: dict[str, str] = dict(headers or {})


class Unauthorized(ApiError):
    """401; auth puts its ``WWW-Authenticate`` challenge in ``headers``."""

    code = "UNAUTHORIZED"
    default_message = "authentication required"


class TooManyRequests(ApiError):
    code = "TOOMANYREQUESTS"
    default_message = "too many requests"


class PaginationNumberInvalid(ApiError):
    code = "PAGINATION_NUMBER_INVALID"
    default_message = "invalid number of results requested"


class RouteUnknown(ApiError):
    """No API endpoint at this path (the spec has no code for it; UNSUPPORTED, as 404)."""

    code = "UNSUPPORTED"
    default_message = "no such API endpoint"
    status = 404


class MethodNotAllowed(ApiError):
    """The endpoint exists but not for this method (or the registry is read-only)."""

    code = "UNSUPPORTED"
    default_message = "the operation is unsupported"
    status = 405


class RangeNotSatisfiable(ApiError):
    """A blob ``Range`` request outside the blob; answered 416 with ``Content-Range``."""

    code = "SIZE_INVALID"
    default_message = "requested range not satisfiable"
    status = 416

    def __init__(self, size: int, requested: str) -> None:
        super().__init__(
            detail={"range": requested, "size": size},
            headers={"Content-Range": f"bytes */{size}"},
        )


class UploadRangeInvalid(ApiError):
    """A chunk that does not continue the upload session: 416 plus where it stands."""

    code = "BLOB_UPLOAD_INVALID"
    default_message = "chunk out of order: the upload is at a different offset"
    status = 416


class InternalError(ApiError):
    code = "UNKNOWN"
    default_message = "unknown error"
    status = 500


def status_for(exc: RegistryError) -> int:
    """The HTTP status for ``exc``: explicit on API errors, else by class, else by code."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status
    if isinstance(exc, RangeInvalid):
        return 416
    if isinstance(exc, ManifestTooLarge):
        return 413
    if isinstance(exc, StorageFull):
        return 507  # Insufficient Storage
    return STATUS_BY_CODE.get(exc.code, 400 if exc.code != "UNKNOWN" else 500)


def error_body(*errors: RegistryError) -> bytes:
    """The spec's error document for one or more errors."""
    items = []
    for exc in errors:
        item: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.detail is not None:
            item["detail"] = exc.detail
        items.append(item)
    return json.dumps({"errors": items}, default=str).encode()


def error_response(exc: RegistryError, *, head: bool = False) -> Response:
    """A complete response for ``exc``; for HEAD the body is left out but counted."""
    body = error_body(exc)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
    }
    headers.update(getattr(exc, "headers", None) or {})
    return Response(b"" if head else body, status_code=status_for(exc), headers=headers)
