"""A small answer leaves in one TCP segment, with h11 on asyncio and httptools on uvloop.

uvicorn writes a response's head and its body separately; each write was a ``send`` and a
segment of its own, which on loopback cost about a third of a small request's CPU (the
sender's system call also runs the receiver's TCP path). The client's kernel counts the
segments that carried data (``tcpi_data_segs_in`` in ``TCP_INFO``, Linux 4.6+), so the
count is read here, not guessed from timing. Pipelined requests and ``Expect:
100-continue`` keep their order and their framing."""

from __future__ import annotations

import hashlib
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.abuse.registry_runner import STACKS, Registry
from tests.api.helpers import OCI_MANIFEST, push_image

STACK_IDS = [f"{parser}-{loop}" for parser, loop in STACKS]
#: Offset of ``tcpi_data_segs_in`` (u32) in Linux's ``struct tcp_info``.
DATA_SEGS_IN = 152


@pytest.fixture(params=STACKS, ids=STACK_IDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    parser, loop = request.param
    with Registry(tmp_path, parser=parser, loop=loop) as running:
        yield running
    assert running.server_errors() == []


def _data_segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    assert len(info) >= DATA_SEGS_IN + 4, "this kernel's TCP_INFO has no data segment count"
    count: int = struct.unpack_from("I", info, DATA_SEGS_IN)[0]
    return count


def _read_answer(sock: socket.socket, method: str, pending: bytearray) -> tuple[bytes, bytes]:
    """One whole response (head, body) from ``sock``; what follows stays in ``pending``."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-answer: {bytes(pending)!r}"
        pending += chunk
    end = pending.index(b"\r\n\r\n") + 4
    head = bytes(pending[:end])
    del pending[:end]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if method == "HEAD" or head.startswith(b"HTTP/1.1 100 "):
        length = 0
    while len(pending) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        pending += chunk
    body = bytes(pending[:length])
    del pending[:length]
    return head, body


def _request(method: str, path: str, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: registry\r\n{extra}\r\n".encode()


def test_small_answers_leave_in_one_segment(registry: Registry) -> None:
    with httpx.Client(base_url=registry.url) as client:
        digest, _ = push_image(client, "seg/app", "latest", layers=[b"a small layer"])
    layer = "sha256:" + hashlib.sha256(b"a small layer").hexdigest()
    accept = f"Accept: {OCI_MANIFEST}\r\n"
    requests = [
        ("GET", "/v2/", ""),
        ("GET", "/v2/seg/app/manifests/latest", accept),
        ("HEAD", "/v2/seg/app/manifests/latest", accept),
        ("GET", f"/v2/seg/app/manifests/{digest}", accept),
        ("HEAD", f"/v2/seg/app/blobs/{layer}", ""),
        ("GET", f"/v2/seg/app/blobs/{layer}", ""),
        ("GET", "/v2/seg/app/manifests/missing", accept),
        ("GET", "/v2/seg/app/tags/list", ""),
    ]
    with socket.create_connection(("127.0.0.1", registry.port), timeout=10) as sock:
        pending = bytearray()
        for method, path, extra in requests:
            before = _data_segments_in(sock)
            sock.sendall(_request(method, path, extra))
            head, body = _read_answer(sock, method, pending)
            segments = _data_segments_in(sock) - before
            assert head.startswith((b"HTTP/1.1 200 ", b"HTTP/1.1 404 ")), head
            assert segments == 1, f"{method} {path}: {segments} segments for {head!r}"
        assert not pending


def test_pipelined_answers_keep_their_order(registry: Registry) -> None:
    with httpx.Client(base_url=registry.url) as client:
        digest, _ = push_image(client, "seg/pipe", "v1", layers=[b"pipelined layer"])
        manifest = client.get(
            f"/v2/seg/pipe/manifests/{digest}", headers={"Accept": OCI_MANIFEST}
        ).content
    accept = f"Accept: {OCI_MANIFEST}\r\n"
    requests = [
        ("HEAD", "/v2/seg/pipe/manifests/v1", accept),
        ("GET", "/v2/seg/pipe/manifests/v1", accept),
        ("GET", "/v2/seg/pipe/manifests/nope", accept),
        ("GET", "/v2/", ""),
        ("HEAD", f"/v2/seg/pipe/manifests/{digest}", accept),
        ("GET", "/v2/seg/pipe/tags/list", ""),
    ]
    with socket.create_connection(("127.0.0.1", registry.port), timeout=10) as sock:
        sock.sendall(b"".join(_request(*r) for r in requests))
        pending = bytearray()
        answers = [_read_answer(sock, method, pending) for method, _, _ in requests]
    statuses = [head.split(b" ", 2)[1] for head, _ in answers]
    assert statuses == [b"200", b"200", b"404", b"200", b"200", b"200"]
    assert [body for _, body in answers[:2]] == [b"", manifest]
    assert b"MANIFEST_UNKNOWN" in answers[2][1]
    assert answers[3][1] == b"{}"
    assert b'"v1"' in answers[5][1]
    assert not pending


def test_expect_continue_comes_before_the_body_is_sent(registry: Registry) -> None:
    data = b"a blob sent after 100 Continue"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=registry.url) as client:
        location = urlsplit(client.post("/v2/seg/continue/blobs/uploads/").headers["location"])
    path = f"{location.path}?{location.query}{'&' if location.query else ''}digest={digest}"
    headers = f"Expect: 100-continue\r\nContent-Length: {len(data)}\r\n"
    with socket.create_connection(("127.0.0.1", registry.port), timeout=10) as sock:
        sock.sendall(_request("PUT", path, headers))
        pending = bytearray()
        interim, _ = _read_answer(sock, "PUT", pending)
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        sock.sendall(data)
        head, _ = _read_answer(sock, "PUT", pending)
    assert head.startswith(b"HTTP/1.1 201 "), head
    assert f"docker-content-digest: {digest}".encode() in head.lower()
