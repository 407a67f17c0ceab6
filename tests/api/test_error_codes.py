"""Every error code of the spec, each provoked by a real request: its status and JSON body.

UNAUTHORIZED, DENIED and TOOMANYREQUESTS come from access hooks (auth raises the first two
the same way; nothing in pyregistry rate-limits, an extension may)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from pyregistry.api import RequestContext, TooManyRequests, Unauthorized
from pyregistry.app import create_app
from pyregistry.storage.errors import Denied
from tests.api.helpers import OCI_MANIFEST, digest_of, error_codes, image_manifest, push_image
from tests.support.server import inmemory_config

NAME = "codes/repo"
UNKNOWN = digest_of(b"never pushed")
Probe = Callable[[TestClient], httpx.Response]


async def refuse(request: Request, context: RequestContext) -> None:
    """Refuses by repository name, as an auth or rate-limit extension would."""
    if context.repository == "anonymous/only":
        raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="r"'})
    if context.repository == "someone/else":
        raise Denied()
    if context.repository == "too/busy":
        raise TooManyRequests(headers={"Retry-After": "1"})


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(inmemory_config(), access_hooks=[refuse])) as test_client:
        push_image(test_client, NAME, "latest")
        yield test_client


def session(client: TestClient) -> str:
    return str(client.post(f"/v2/{NAME}/blobs/uploads/").headers["location"])


def put_manifest(client: TestClient, body: bytes, reference: str = "t") -> httpx.Response:
    return client.put(
        f"/v2/{NAME}/manifests/{reference}", content=body, headers={"Content-Type": OCI_MANIFEST}
    )


CASES: list[tuple[str, int, Probe]] = [
    ("BLOB_UNKNOWN", 404, lambda c: c.get(f"/v2/{NAME}/blobs/{UNKNOWN}")),
    (
        "BLOB_UPLOAD_INVALID",
        400,
        lambda c: c.patch(session(c), content=b"x", headers={"Content-Range": "x-y"}),
    ),
    (
        "BLOB_UPLOAD_INVALID",
        416,
        lambda c: c.patch(session(c), content=b"x", headers={"Content-Range": "5-5"}),
    ),
    ("BLOB_UPLOAD_UNKNOWN", 404, lambda c: c.get(f"/v2/{NAME}/blobs/uploads/{uuid.uuid4()}")),
    ("DIGEST_INVALID", 400, lambda c: c.put(session(c), params={"digest": UNKNOWN}, content=b"x")),
    ("DIGEST_INVALID", 400, lambda c: c.post(f"/v2/{NAME}/blobs/uploads/?digest=sha256:x")),
    ("MANIFEST_BLOB_UNKNOWN", 400, lambda c: put_manifest(c, image_manifest(b"{}", [b"gone"]))),
    ("MANIFEST_INVALID", 400, lambda c: put_manifest(c, b"{not json")),
    ("MANIFEST_UNKNOWN", 404, lambda c: c.get(f"/v2/{NAME}/manifests/nosuchtag")),
    ("NAME_INVALID", 400, lambda c: c.get("/v2/Upper/Case/tags/list")),
    ("NAME_UNKNOWN", 404, lambda c: c.get("/v2/never/pushed/tags/list")),
    (
        "SIZE_INVALID",
        400,
        lambda c: c.patch(
            session(c), content=b"four", headers={"Content-Range": "0-9", "Content-Length": "4"}
        ),
    ),
    ("SIZE_INVALID", 413, lambda c: put_manifest(c, b" " * (4 * 1024 * 1024 + 1))),
    ("UNAUTHORIZED", 401, lambda c: c.get("/v2/anonymous/only/tags/list")),
    ("DENIED", 403, lambda c: c.get("/v2/someone/else/tags/list")),
    ("UNSUPPORTED", 405, lambda c: c.post(f"/v2/{NAME}/tags/list")),
    ("TOOMANYREQUESTS", 429, lambda c: c.get("/v2/too/busy/manifests/latest")),
]


@pytest.mark.parametrize(("code", "status", "probe"), CASES, ids=[f"{c}-{s}" for c, s, _ in CASES])
def test_every_error_code(client: TestClient, code: str, status: int, probe: Probe) -> None:
    response = probe(client)
    assert response.status_code == status, response.text
    assert error_codes(response) == [code]
    assert response.headers["content-type"].startswith("application/json")


def test_extension_headers_ride_along(client: TestClient) -> None:
    assert (
        client.get("/v2/anonymous/only/tags/list").headers["www-authenticate"] == 'Bearer realm="r"'
    )
    assert client.get("/v2/too/busy/tags/list").headers["retry-after"] == "1"


def test_every_delete_is_405_unsupported_when_deletes_are_disabled() -> None:
    app = create_app(inmemory_config(delete_enabled=False))
    with TestClient(app) as client:
        digest, manifest = push_image(client, NAME, "kept")
        layer = f"/v2/{NAME}/blobs/{digest_of(b'layer-kept')}"
        for path in (layer, f"/v2/{NAME}/manifests/kept", f"/v2/{NAME}/manifests/{digest}"):
            response = client.delete(path)
            assert response.status_code == 405, path
            assert error_codes(response) == ["UNSUPPORTED"]
        assert client.get(f"/v2/{NAME}/manifests/kept").content == manifest
        assert client.head(layer).status_code == 200


MALFORMED = ["sha256:abc", "sha256:" + "Z" * 64, "md5:" + "a" * 32, "sha256:", ":", "a:b:c"]


@pytest.mark.parametrize("digest", MALFORMED)
def test_a_malformed_digest_anywhere_is_400(client: TestClient, digest: str) -> None:
    """In the path, in ``?digest=``, in ``?mount=``, on referrers: 400, never a 500."""
    requests = [
        ("GET", f"/v2/{NAME}/blobs/{digest}", None),
        ("HEAD", f"/v2/{NAME}/blobs/{digest}", None),
        ("DELETE", f"/v2/{NAME}/blobs/{digest}", None),
        ("GET", f"/v2/{NAME}/manifests/{digest}", None),
        ("DELETE", f"/v2/{NAME}/manifests/{digest}", None),
        ("PUT", f"/v2/{NAME}/manifests/{digest}", None),
        ("GET", f"/v2/{NAME}/referrers/{digest}", None),
        ("POST", f"/v2/{NAME}/blobs/uploads/", {"digest": digest}),
        ("POST", f"/v2/{NAME}/blobs/uploads/", {"mount": digest, "from": "other/repo"}),
        ("POST", f"/v2/{NAME}/blobs/uploads/", {"mount": digest}),
        ("PUT", session(client), {"digest": digest}),
    ]
    for method, path, params in requests:
        response = client.request(method, path, params=params, content=b"{}")
        assert response.status_code == 400, (method, path, params, response.text)
        if method != "HEAD":
            assert error_codes(response) == ["DIGEST_INVALID"], (method, path, params)
