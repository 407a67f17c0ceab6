"""The refusals and failures of the management service layer, one type each, so the JSON
API and the web UI map them to a status and a message without parsing text.

``code`` is stable (clients and templates switch on it); ``status`` is the HTTP status a
web front end should answer with.
"""

from __future__ import annotations

from typing import Any


class ManagementError(Exception):
    """``code`` and ``status`` come with each kind: ``class X(ManagementError, code=...,
    status=...)``."""

    code = "UNKNOWN"
    status = 500

    def __init_subclass__(cls, *, code: str, status: int, **rest: Any) -> None:
        super().__init_subclass__(**rest)
        cls.code, cls.status = code, status

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class Unauthenticated(ManagementError, code="UNAUTHORIZED", status=401):
    """Anonymous callers asking for something only a user may see or do."""


class Forbidden(ManagementError, code="DENIED", status=403):
    """A known user whose role does not allow this."""


class NotFound(ManagementError, code="NOT_FOUND", status=404):
    """No such repository, tag, manifest, project or user."""


class Invalid(ManagementError, code="INVALID", status=400):
    """Bad input: a malformed name, digest, role, page size."""


class Conflict(ManagementError, code="CONFLICT", status=409):
    """The change contradicts the current state (a user that exists, a last admin)."""


class Unsupported(ManagementError, code="UNSUPPORTED", status=405):
    """Not possible with this configuration (deletes disabled, no users file)."""


class Unavailable(ManagementError, code="UNAVAILABLE", status=503):
    """Temporarily unable to answer (the index is being built, storage trouble)."""
