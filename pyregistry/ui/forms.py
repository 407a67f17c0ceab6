"""Posted forms and their CSRF check.

Every change the UI makes is a POST of an urlencoded form carrying the session's CSRF
token in a hidden field; :func:`checked_form` refuses a form whose token is missing or
not the session's (a page of another site cannot read the token, so it cannot forge the
field, even where the browser would send the cookie). Forms are parsed with the standard
library's ``parse_qsl`` under a size limit: the UI posts a few short fields, never files,
so the multipart parser Starlette would need (``python-multipart``) is not required.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

#: The largest form the UI posts is a few hundred bytes.
MAX_FORM_BYTES = 16 * 1024
CSRF_KEY = "csrf"


class FormRefused(Exception):
    """A POST the UI will not act on: ``status`` and a message for the error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


async def read_form(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormRefused(415, "expected a form (application/x-www-form-urlencoded)")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormRefused(413, "the form is too large")
    try:
        pairs: list[tuple[str, str | UploadFile]] = []
        pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise FormRefused(400, "the form is not UTF-8") from exc
    return FormData(pairs)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matched the session's (else 403)."""
    form = await read_form(request)
    sent = form.get(CSRF_KEY)
    expected = request.session.get(CSRF_KEY)
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not expected
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise FormRefused(403, "the form is stale or did not come from this page: reload and retry")
    return form
