"""Request lines and headers without end, with h11 on asyncio and httptools on uvloop:
past Go's limit (so distribution's: 1 MiB and 4 KiB) the client gets a JSON 431 while it
is still sending, instead of the registry gathering headers until the header timeout;
below it, large headers are served as distribution serves them."""

from __future__ import annotations

import json
import select
import socket
from pathlib import Path

import httpx
import pytest

from pyregistry.connections.limits import MAX_HEADER_BYTES
from tests.abuse.registry_runner import STACKS, Registry

STACK_IDS = [f"{parser}-{loop}" for parser, loop in STACKS]
#: What a client offers to send; the registry must answer long before the end.
ENDLESS = 64 << 20
#: Bytes the client may have sent when the answer arrives: the limit, plus what the two
#: sockets' buffers on loopback hold.
ANSWERED_WITHIN = 16 << 20
#: (what begins the request, what repeats after it)
ENDLESS_REQUESTS = {
    "one long header": (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"a" * 65536),
    "many headers": (b"GET /v2/ HTTP/1.1\r\nHost: x\r\n", b"X-Pad: 0123456789\r\n" * 3449),
    "a long URL": (b"GET /v2/", b"a" * 65536),
}


def _send_until_answered(port: int, start: bytes, filler: bytes) -> tuple[int, bytes]:
    """Send ``start`` then ``filler`` over and over (up to :data:`ENDLESS`) until the
    registry answers; the bytes sent by then, and the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(start)
        sent = len(start)
        try:
            while sent < ENDLESS:
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(filler)
                sent += len(filler)
        except OSError:  # closed before the client stopped: the answer is still read
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        return sent, answer


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
        return answer


@pytest.mark.parametrize(("parser", "loop"), STACKS, ids=STACK_IDS)
def test_endless_headers_get_a_431_while_the_client_sends(
    tmp_path: Path, parser: str, loop: str
) -> None:
    with Registry(tmp_path, parser=parser, loop=loop) as registry:
        for name, (start, filler) in ENDLESS_REQUESTS.items():
            sent, answer = _send_until_answered(registry.port, start, filler)
            assert answer.startswith(b"HTTP/1.1 431 "), (name, sent, answer[:300])
            assert sent < ANSWERED_WITHIN, (name, sent)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert b"application/json" in head.lower(), (name, head)
            assert b"connection: close" in head.lower(), (name, head)
            assert json.loads(body)["errors"][0]["code"] == "UNSUPPORTED", (name, body)
        assert httpx.get(f"{registry.url}/v2/", timeout=5).status_code == 200
    log = registry.stderr
    assert "Traceback" not in log, log[-3000:]
    assert log.count(f"over the {MAX_HEADER_BYTES} accepted (answered 431") == 3, log[-3000:]
    assert not registry.server_errors()


@pytest.mark.parametrize(("parser", "loop"), STACKS, ids=STACK_IDS)
def test_large_headers_under_the_limit_are_served(tmp_path: Path, parser: str, loop: str) -> None:
    """Distribution takes a 1,000,000-byte header (a bearer token with many scopes, a
    large cookie from a proxy in front): so does pyregistry, with either parser."""
    with Registry(tmp_path, parser=parser, loop=loop) as registry:
        big = b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 1_000_000 + b"\r\n\r\n"
        assert _exchange(registry.port, big).startswith(b"HTTP/1.1 200 "), parser
        many = b"".join(b"X-Pad-%d: 0123456789\r\n" % i for i in range(20_000))
        request = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
        assert len(request) < MAX_HEADER_BYTES
        assert _exchange(registry.port, request).startswith(b"HTTP/1.1 200 "), parser
