"""Broken HTTP framing and non-HTTP clients, with h11 on asyncio and httptools on uvloop:
each is one info line naming the client, never a traceback; a TLS handshake on the
plain-HTTP port (skopeo and podman probe HTTPS first) is explained once per client."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.abuse.registry_runner import STACKS, Registry

UNKNOWN_UPLOAD = b"/v2/a/blobs/uploads/00000000-0000-0000-0000-000000000000"
#: (request head, what follows once the registry has answered) - the body continues past
#: its length or its chunk framing breaks after the response went out, or the head itself
#: is broken.
CASES = [
    (
        b"PATCH " + UNKNOWN_UPLOAD + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
        b"abcdeGARBAGE GARBAGE\r\n\r\n",
    ),
    (
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
        b"abcdeGARBAGE GARBAGE\r\n\r\n",
    ),
    (
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5\r\nabcde\r\nZZ\r\n",
    ),
    (b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x01\x02 GARBAGE\r\n\r\n"),
    (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b""),
    (b"GET /v2/\x00 HTTP/1.1\r\nHost: x\r\n\r\n", b""),
    (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", b""),
]
TLS_CLIENT_HELLO = bytes.fromhex("16030100a5010000a10303") + b"\0" * 40


def _exchange(port: int, first: bytes, second: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(first)
        time.sleep(0.3)
        if second:
            with contextlib.suppress(OSError):
                sock.sendall(second)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:
            pass
        return received


@pytest.mark.parametrize(("parser", "loop"), STACKS, ids=[f"{p}-{lo}" for p, lo in STACKS])
def test_broken_framing_is_one_line_and_no_traceback(
    tmp_path: Path, parser: str, loop: str
) -> None:
    with Registry(tmp_path, parser=parser, loop=loop) as registry:
        for first, second in CASES:
            answer = _exchange(registry.port, first, second)
            assert answer.startswith(b"HTTP/1.1 "), (first, answer)
        for _ in range(3):
            assert _exchange(registry.port, TLS_CLIENT_HELLO, b"").startswith(b"HTTP/1.1 400")
        upgrade = (
            b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        )
        _exchange(registry.port, upgrade, b"")
        assert httpx.get(f"{registry.url}/v2/", timeout=5).status_code == 200
    log = registry.stderr
    assert "Traceback" not in log, log[-3000:]
    assert "Exception in ASGI application" not in log
    assert "Invalid HTTP request received" not in log  # uvicorn's client-less warning
    assert log.count("malformed HTTP request from 127.0.0.1") >= len(CASES) - 2
    assert log.count("started a TLS handshake on this plain-HTTP port") == 1
    assert "asked to upgrade the connection" in log
    assert "WebSocket library" not in log
    assert not registry.server_errors()
