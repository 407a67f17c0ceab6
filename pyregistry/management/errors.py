"""The refusals and failures of the management service layer, one type each, so the JSON
API and the web UI map them to a status and a message without parsing text.

``code`` is stable (clients and templates switch on it); ``status`` is the HTTP status a
web front end should answer with.
"""

from __future__ import annotations

from typing import Any


class ManagementError(Exception):
    code = "UNKNOWN"
    status = 500

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class Unauthenticated(ManagementError):
    """Anonymous callers asking for something only a user may see or do."""

    code, status = "UNAUTHORIZED", 401


class Forbidden(ManagementError):
    """A known user whose role does not allow this."""

    code, status = "DENIED", 403


class NotFound(ManagementError):
    code, status = "NOT_FOUND", 404


class Invalid(ManagementError):
    """Bad input: a malformed name, digest, role, page size."""

    code, status = "INVALID", 400


class Conflict(ManagementError):
    """The change contradicts the current state (a user that exists, a last admin)."""

    code, status = "CONFLICT", 409


class Unsupported(ManagementError):
    """Not possible with this configuration (deletes disabled, no users file)."""

    code, status = "UNSUPPORTED", 405


class Unavailable(ManagementError):
    """Temporarily unable to answer (the index is being built, storage trouble)."""

    code, status = "UNAVAILABLE", 503
