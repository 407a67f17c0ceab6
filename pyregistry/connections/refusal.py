"""Answers written straight to the socket, outside any route: the one a connection gets
when it is turned away at the connection cap (before uvicorn parses anything), and the
one for a request HTTP cannot parse. Built here as bytes, once, from the error table."""

from __future__ import annotations

from http import HTTPStatus

from pyregistry import errcode


class TooManyConnections(errcode.RegistryError):
    descriptor = errcode.TOO_MANY_CONNECTIONS


def refusal_bytes() -> bytes:
    """A complete HTTP/1.1 response that closes the connection and asks for a retry."""
    return _closing_answer(TooManyConnections(), "retry-after: 1\r\n")


class MalformedRequest(errcode.RegistryError):
    descriptor = errcode.MALFORMED_REQUEST


def malformed_bytes() -> bytes:
    """The JSON 400 for a request the HTTP parser refused (uvicorn's own is plain text)."""
    return _closing_answer(MalformedRequest())


class HeadersTooLarge(errcode.RegistryError):
    descriptor = errcode.HEADERS_TOO_LARGE


def headers_too_large_bytes() -> bytes:
    """The JSON 431 for a request whose line and headers outgrow the limit."""
    return _closing_answer(HeadersTooLarge())


def _closing_answer(error: errcode.RegistryError, extra_headers: str = "") -> bytes:
    body = errcode.error_body(error)
    status = HTTPStatus(error.status)
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "content-type: application/json; charset=utf-8\r\n"
        f"{extra_headers}connection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body
