"""What the registry client raises: one base class, and a response error per kind of
refusal, each carrying the OCI error codes of the registry's JSON body.

Callers (the embedding's helpers, a mirror deciding whether an upstream miss is a 404
or an outage) branch on the class or on :attr:`RegistryResponseError.code`, never on the
message text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: How much of an unexpected body the message quotes.
MESSAGE_BODY_LIMIT = 2000


class RegistryClientError(Exception):
    """Base class of everything the client raises on purpose."""


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of an OCI error body: ``{"code", "message", "detail"}``."""

    code: str
    message: str = ""
    detail: Any = None


def parse_error_body(body: bytes) -> tuple[ErrorDetail, ...]:
    """The ``errors`` of an OCI error body; empty when the body is not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ()
    entries = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return ()
    return tuple(
        ErrorDetail(str(entry.get("code", "")), str(entry.get("message", "")), entry.get("detail"))
        for entry in entries
        if isinstance(entry, dict)
    )


class RegistryResponseError(RegistryClientError):
    """The registry answered a status the operation does not accept.

    ``errors`` holds the OCI error entries of the body; ``code`` is the first one's code
    (``""`` when the body carried none, e.g. from a proxy in between).
    """

    def __init__(
        self, action: str, status_code: int, reason: str, headers: Mapping[str, str], body: bytes
    ) -> None:
        self.action = action
        self.status_code = status_code
        self.headers = dict(headers)
        self.body = body
        self.errors = parse_error_body(body)
        text = body[:MESSAGE_BODY_LIMIT].decode("utf-8", errors="replace")
        super().__init__(f"{action}: {status_code} {reason}: {text}")

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else ""

    @property
    def codes(self) -> list[str]:
        return [error.code for error in self.errors]


class UnauthorizedError(RegistryResponseError):
    """401: no credentials, wrong ones, or a token the registry would not take."""


class DeniedError(RegistryResponseError):
    """403: authenticated, but not allowed to do this."""


class NotFoundError(RegistryResponseError):
    """404: the repository, manifest, blob or upload session is unknown."""


class UploadRangeError(RegistryResponseError):
    """416: a chunk did not start where the upload session ends."""


class TooManyRequestsError(RegistryResponseError):
    """429: the registry (or a quota) asks to slow down."""


_BY_STATUS: dict[int, type[RegistryResponseError]] = {
    401: UnauthorizedError,
    403: DeniedError,
    404: NotFoundError,
    416: UploadRangeError,
    429: TooManyRequestsError,
}


def response_error(
    action: str, status_code: int, reason: str, headers: Mapping[str, str], body: bytes
) -> RegistryResponseError:
    """The error class for ``status_code``, built from the response."""
    cls = _BY_STATUS.get(status_code, RegistryResponseError)
    return cls(action, status_code, reason, headers, body)


class DigestMismatchError(RegistryClientError):
    """Content read from the registry does not hash to the digest it was asked for or
    announced (``Docker-Content-Digest``); nothing of it should be trusted."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"{what}: expected digest {expected}, got {actual}")


class TokenError(RegistryClientError):
    """The token service of a Bearer challenge refused or answered no usable token."""
