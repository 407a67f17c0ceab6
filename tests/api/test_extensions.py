"""The extension points: access hooks, event sinks, extra middleware; and read-only mode."""

from __future__ import annotations

import logging
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from pyregistry.api import RequestContext, Unauthorized
from pyregistry.api.context import (
    BLOB_DELETE,
    BLOB_MOUNT,
    BLOB_PULL,
    BLOB_PUSH,
    MANIFEST_DELETE,
    MANIFEST_PULL,
    MANIFEST_PUSH,
    TAG_DELETE,
)
from pyregistry.app import create_app
from pyregistry.storage.errors import Denied
from tests.api.helpers import digest_of, error_codes, push_blob, push_image
from tests.support.server import inmemory_config


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def emit(self, event_kind: str, **details: Any) -> None:
        self.events.append((event_kind, details))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]

    def first(self, kind: str) -> dict[str, Any]:
        return next(details for k, details in self.events if k == kind)


def test_events_for_push_pull_mount_delete() -> None:
    sink = RecordingSink()
    with TestClient(create_app(inmemory_config(), event_sink=sink)) as client:
        blob = push_blob(client, "src", b"layer")
        client.get(f"/v2/src/blobs/{blob}")
        client.head(f"/v2/src/blobs/{blob}")  # HEAD of a blob is not a pull
        client.post("/v2/dst/blobs/uploads/", params={"mount": blob, "from": "src"})
        digest, _ = push_image(client, "src", "v1")
        client.get("/v2/src/manifests/v1")
        client.delete("/v2/src/manifests/v1")
        client.delete(f"/v2/src/manifests/{digest}")
        client.delete(f"/v2/dst/blobs/{blob}")

    kinds = sink.kinds()
    assert kinds[:3] == [BLOB_PUSH, BLOB_PULL, BLOB_MOUNT]
    assert kinds[-4:] == [MANIFEST_PULL, TAG_DELETE, MANIFEST_DELETE, BLOB_DELETE]
    assert MANIFEST_PUSH in kinds
    push = sink.first(BLOB_PUSH)
    assert push["digest"] == blob
    assert push["size"] == len(b"layer")
    assert isinstance(push["context"], RequestContext)
    assert push["context"].repository == "src"
    mount = sink.first(BLOB_MOUNT)
    assert mount["from_repository"] == "src"
    assert mount["context"].repository == "dst"
    manifest_push = sink.first(MANIFEST_PUSH)
    assert manifest_push["tag"] == "v1"
    assert manifest_push["media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert sink.first(TAG_DELETE)["tag"] == "v1"


def test_failing_sink_does_not_fail_requests(server_errors: list[logging.LogRecord]) -> None:
    class BrokenSink:
        async def emit(self, event_kind: str, **details: Any) -> None:
            raise RuntimeError("sink down")

    with TestClient(create_app(inmemory_config(), event_sink=BrokenSink())) as client:
        digest = push_blob(client, "r", b"still stored")
        assert client.get(f"/v2/r/blobs/{digest}").content == b"still stored"
    assert any("event sink failed" in r.getMessage() for r in server_errors)
    server_errors.clear()


def test_access_hook_sees_context_and_can_refuse() -> None:
    seen: list[RequestContext] = []

    async def hook(request: Request, context: RequestContext) -> None:
        seen.append(context)
        if request.headers.get("authorization") != "Bearer ok":
            raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="test"'})
        if context.repository == "forbidden":
            raise Denied()
        context.actor = "alice"

    with TestClient(create_app(inmemory_config(), access_hooks=[hook])) as client:
        anonymous = client.get("/v2/")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == 'Bearer realm="test"'
        assert error_codes(anonymous) == ["UNAUTHORIZED"]
        auth = {"Authorization": "Bearer ok"}
        assert client.get("/v2/", headers=auth).status_code == 200
        denied = client.get("/v2/forbidden/tags/list", headers=auth)
        assert denied.status_code == 403
        assert error_codes(denied) == ["DENIED"]
        client.post(
            "/v2/dst/blobs/uploads/",
            params={"mount": digest_of(b"x"), "from": "src/repo"},
            headers=auth,
        )

    mount = seen[-1]
    assert mount.repository == "dst"
    assert mount.mount_from == "src/repo"
    assert mount.actions == ("pull", "push")
    assert mount.actor == "alice"
    assert seen[0].endpoint == "base"


def test_hook_can_forbid_mounting_from_the_global_store() -> None:
    async def no_global_mount(request: Request, context: RequestContext) -> None:
        context.allow_global_mount = False

    with TestClient(create_app(inmemory_config(), access_hooks=[no_global_mount])) as client:
        digest = push_blob(client, "private", b"secret layer")
        response = client.post("/v2/other/blobs/uploads/", params={"mount": digest})
        assert response.status_code == 202
        assert client.head(f"/v2/other/blobs/{digest}").status_code == 404


class TaggingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v2/deny-me/tags/list":
            raise Denied("middleware says no")
        await self.app(scope, receive, send)


def test_extra_middleware_errors_render_as_json() -> None:
    app = create_app(inmemory_config(), middleware=[Middleware(TaggingMiddleware)])
    with TestClient(app) as client:
        response = client.get("/v2/deny-me/tags/list")
        assert response.status_code == 403
        assert error_codes(response) == ["DENIED"]
        assert response.headers["docker-distribution-api-version"] == "registry/2.0"
