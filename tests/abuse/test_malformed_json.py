"""A request HTTP itself cannot parse gets the spec's JSON error body, not uvicorn's plain
text, on the embedded server (httptools when installed) as on `pyregistry serve`."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pyregistry.app import create_app
from tests.support.server import filesystem_config, run_server


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Bad: a\x7fb\x00c\r\n\r\n",
    ],
    ids=["request-line", "control-bytes-in-header"],
)
def test_unparseable_request_gets_a_json_400(tmp_path: Path, request_bytes: bytes) -> None:
    with run_server(create_app(filesystem_config(tmp_path / "storage"))) as url:
        where = urlsplit(url)
        with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
            sock.sendall(request_bytes)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"application/json" in head.lower()
    assert json.loads(body)["errors"][0]["code"] == "UNSUPPORTED"
