"""The S3 driver's response class reads what http.client's reads: the same status, headers,
body and keep-alive decision, answer by answer, over a real socket."""

from __future__ import annotations

import http.client
import socket

import pytest

from storage_drivers.s3.quick_response import MAX_HEADERS, QuickResponse

ANSWERS = {
    "length": b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: "abc"\r\n\r\nhello',
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "to the close": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
    "close asked": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    "http 1.0": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "no content": b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
    "interim first": b"HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 404 Not Found\r\n"
    b"Content-Length: 3\r\n\r\nnope",
    "repeated and empty": b"HTTP/1.1 200 OK\r\nX-Amz-Meta-A: 1\r\nx-amz-meta-a: 2\r\n"
    b"Content-Length: 1\r\nX-Empty:\r\n\r\nz",
    "bad length": b"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\nrest",
}

Read = tuple[int, str, int, list[tuple[str, str]], bytes, bool]


def _read(response_class: type[http.client.HTTPResponse], raw: bytes, method: str = "GET") -> Read:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(raw)
        ours.shutdown(socket.SHUT_WR)
        response = response_class(theirs, method=method)
        response.begin()
        headers = [(name.lower(), value) for name, value in response.getheaders()]
        body = response.read()
        return (
            response.status,
            response.reason,
            response.version,
            headers,
            body,
            bool(response.will_close),
        )


@pytest.mark.parametrize("name", sorted(ANSWERS))
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_each_answer_reads_as_http_client_reads_it(name: str, method: str) -> None:
    raw = ANSWERS[name]
    assert _read(QuickResponse, raw, method) == _read(http.client.HTTPResponse, raw, method)


def test_a_folded_header_continues_the_one_before() -> None:
    raw = b"HTTP/1.1 200 OK\r\nX-Long: first\r\n  second\r\nContent-Length: 0\r\n\r\n"
    status, _, _, headers, _, _ = _read(QuickResponse, raw)
    assert status == 200
    assert ("x-long", "first second") in headers


def test_a_line_that_is_no_header_is_dropped() -> None:
    """(The email parser takes it, and every header after it, for the body's start.)"""
    raw = b"HTTP/1.1 200 OK\r\nX-A: 1\r\nno colon\r\nContent-Length: 2\r\n\r\nok"
    _, _, _, headers, body, will_close = _read(QuickResponse, raw)
    assert headers == [("x-a", "1"), ("content-length", "2")]
    assert body == b"ok" and not will_close


def test_limits_are_http_clients() -> None:
    many = b"".join(b"X-%d: v\r\n" % n for n in range(MAX_HEADERS + 1))
    with pytest.raises(http.client.HTTPException, match="more than"):
        _read(QuickResponse, b"HTTP/1.1 200 OK\r\n" + many + b"\r\n")
    with pytest.raises(http.client.LineTooLong):
        _read(QuickResponse, b"HTTP/1.1 200 OK\r\nX: " + b"v" * 70000 + b"\r\n\r\n")
    with pytest.raises(http.client.UnknownProtocol):
        _read(QuickResponse, b"HTTP/2.0 200 OK\r\n\r\n")
