"""Issue 11, items 2 and 7: deeply nested JSON manifests are 400 MANIFEST_INVALID, and a
client that writes a whole oversized manifest before reading still gets its 413."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.json_input import MAX_DEPTH, JSONTooDeep, loads
from pyregistry.storage.policy import MAX_MANIFEST_SIZE
from tests.abuse.hostile import no_logged_errors, raw_exchange
from tests.api.helpers import OCI_MANIFEST, error_codes, push_blob
from tests.support.server import inmemory_config, run_server


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_server(create_app(inmemory_config())) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with no_logged_errors(), httpx.Client(base_url=base_url, timeout=60) as http:
        yield http


def nested_annotation(depth: int) -> bytes:
    """A well-formed image manifest whose one annotation value nests ``depth`` arrays."""
    return (
        b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'",'
        b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,'
        b'"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},'
        b'"layers":[],"annotations":{"a":' + b"[" * depth + b"]" * depth + b"}}"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 3000 + b"]" * 3000,
        b'{"a":' * 1500 + b"1" + b"}" * 1500,
        b"[" * 100000,  # unterminated as well
        nested_annotation(MAX_DEPTH + 1),
        nested_annotation(5000),
    ],
    ids=["arrays-3000", "objects-1500", "open-100000", "just-too-deep", "annotation-5000"],
)
def test_deep_manifests_are_manifest_invalid(client: httpx.Client, body: bytes) -> None:
    push_blob(client, "deep/app", b"{}")
    for reference in ("latest", "sha256:" + __import__("hashlib").sha256(body).hexdigest()):
        resp = client.put(
            f"/v2/deep/app/manifests/{reference}",
            content=body,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert resp.status_code == 400, resp.text
        assert error_codes(resp) == ["MANIFEST_INVALID"]
    assert client.get("/v2/deep/app/manifests/latest").status_code == 404


def test_ordinary_nesting_is_fine(client: httpx.Client) -> None:
    push_blob(client, "deep/ok", b"{}")
    resp = client.put(
        "/v2/deep/ok/manifests/latest",
        content=nested_annotation(0).replace(b'"a":}', b'"a":"x"}'),
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert resp.status_code == 201, resp.text


def test_loader_limits() -> None:
    assert loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(JSONTooDeep):
        loads(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(ValueError, match="nests deeper"):
        loads("[" * 50000 + "]" * 50000)
    # brackets inside strings do not count
    assert loads(json.dumps({"a": "[" * 1000})) == {"a": "[" * 1000}


def _put_head(length: int | None, name: str = "big/app") -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"PUT /v2/{name}/manifests/latest HTTP/1.1\r\nHost: registry\r\n"
        f"Content-Type: {OCI_MANIFEST}\r\n{framing}\r\n\r\n"
    ).encode()


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


#: A second request on the same connection: answered only if the refused body was read
#: to its end. Otherwise the server must close with the body's bytes unread, which the
#: kernel turns into a reset that can destroy the refusal before the client reads it.
FOLLOW_UP = b"GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n"


def test_oversized_manifest_written_whole_gets_its_413(base_url: str) -> None:
    """Item 7: the client sends 4 MiB + 1 before reading a byte."""
    body = b"x" * (MAX_MANIFEST_SIZE + 1)
    with no_logged_errors():
        answer, after = raw_exchange(base_url, _put_head(len(body)), body, then=FOLLOW_UP)
    assert _status(answer) == 413, answer[:300]
    assert b"SIZE_INVALID" in answer  # the 413 carries the error code distribution uses
    assert after.startswith(b"HTTP/1.1 200 "), after[:300]


def test_oversized_chunked_manifest_gets_its_413(base_url: str) -> None:
    chunk = b"x" * (1024 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    with no_logged_errors():
        answer, after = raw_exchange(base_url, _put_head(None), body, then=FOLLOW_UP)
    assert _status(answer) == 413, answer[:300]
    assert after.startswith(b"HTTP/1.1 200 "), after[:300]


def test_huge_bodies_are_not_waited_for(base_url: str) -> None:
    """Past the drain limit the refusal goes out at once and the connection closes."""
    head = _put_head(64 * 1024 * 1024)
    with no_logged_errors():
        answer, _ = raw_exchange(base_url, head, b"x" * 65536)
    assert _status(answer) == 413, answer[:300]


def test_refused_upload_body_written_whole_gets_its_answer(base_url: str) -> None:
    """Any refusal before the body was read: the body is drained, the answer arrives."""
    body = b"y" * (2 * 1024 * 1024)
    head = (
        "PATCH /v2/big/app/blobs/uploads/no-such-session HTTP/1.1\r\nHost: registry\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with no_logged_errors():
        answer, after = raw_exchange(base_url, head, body, then=FOLLOW_UP)
    assert _status(answer) == 404 and b"BLOB_UPLOAD_UNKNOWN" in answer, answer[:300]
    assert after.startswith(b"HTTP/1.1 200 "), after[:300]
