"""The answer a connection gets when it is turned away at the connection cap.

It is written straight to the socket, before uvicorn parses anything, so it is built
here as bytes, once, from the error table's ``TOO_MANY_CONNECTIONS`` entry.
"""

from __future__ import annotations

from http import HTTPStatus

from pyregistry import errcode


class TooManyConnections(errcode.RegistryError):
    descriptor = errcode.TOO_MANY_CONNECTIONS


def refusal_bytes() -> bytes:
    """A complete HTTP/1.1 response that closes the connection and asks for a retry."""
    error = TooManyConnections()
    body = errcode.error_body(error)
    status = HTTPStatus(error.status)
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "content-type: application/json; charset=utf-8\r\n"
        "retry-after: 1\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body
