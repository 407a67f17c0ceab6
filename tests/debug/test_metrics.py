"""The Prometheus middleware: route kinds as labels, bytes counted while streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from pyregistry.debug.metrics import Metrics, MetricsMiddleware, render, route_name

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v2/", "base"),
        ("/v2", "base"),
        ("/v2/_catalog", "catalog"),
        ("/v2/library/alpine/tags/list", "tags"),
        ("/v2/alpine/manifests/latest", "manifest"),
        (f"/v2/a/b/c/manifests/{DIGEST}", "manifest"),
        (f"/v2/alpine/blobs/{DIGEST}", "blob"),
        ("/v2/alpine/blobs/uploads/", "blob_upload"),
        ("/v2/alpine/blobs/uploads/3f6e2a1c-0000-4000-8000-000000000000", "blob_upload_chunk"),
        (f"/v2/alpine/referrers/{DIGEST}", "referrers"),
        ("/v2/a/manifests/manifests/latest", "manifest"),  # a repository named a/manifests
        ("/metrics", "other"),
        ("/", "other"),
    ],
)
def test_route_kinds(path: str, route: str) -> None:
    assert route_name(path) == route


def test_route_kinds_under_a_prefix() -> None:
    assert route_name("/my/registry/v2/x/tags/list", "/my/registry/") == "tags"
    assert route_name("/v2/x/tags/list", "/my/registry/") == "tags"


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_counts_requests_bytes_and_latency() -> None:
    seen_chunks: list[int] = []

    async def upload(request: Request) -> Response:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
        return Response(status_code=202, headers={"x-total": str(total)})

    async def download(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"x" * 1000

        return StreamingResponse(body())

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        """Outside the middleware: sees what it passes on, message by message."""

        async def spy(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                seen_chunks.append(len(message["body"]))
            await send(message)

        await app(scope, receive, spy)

    inner = Starlette(
        routes=[
            Route("/v2/{name:path}/blobs/uploads/{id}", upload, methods=["PATCH"]),
            Route("/v2/{name:path}/blobs/{digest}", download),
        ]
    )
    registry = CollectorRegistry()
    app = MetricsMiddleware(inner, metrics=Metrics(registry))
    transport = httpx.ASGITransport(app=recording)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"y" * 256

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.patch("/v2/repo/blobs/uploads/abc", content=chunks())
        assert response.status_code == 202 and response.headers["x-total"] == "1024"
        for _ in range(2):
            assert len((await client.get(f"/v2/repo/blobs/{DIGEST}")).content) == 5000
        assert (await client.get("/nowhere")).status_code == 404

    assert seen_chunks[:10] == [1000] * 10  # passed on chunk by chunk, not buffered
    assert (
        sample(
            registry,
            "registry_http_requests_total",
            handler="blob_upload_chunk",
            method="PATCH",
            code="202",
        )
        == 1
    )
    assert (
        sample(registry, "registry_http_requests_total", handler="blob", method="GET", code="200")
        == 2
    )
    assert (
        sample(registry, "registry_http_requests_total", handler="other", method="GET", code="404")
        == 1
    )
    assert (
        sample(
            registry,
            "registry_http_request_bytes_total",
            handler="blob_upload_chunk",
            method="PATCH",
        )
        == 1024
    )
    assert (
        sample(registry, "registry_http_response_bytes_total", handler="blob", method="GET")
        == 10000
    )
    assert (
        sample(
            registry, "registry_http_request_duration_seconds_count", handler="blob", method="GET"
        )
        == 2
    )
    assert sample(registry, "registry_http_in_flight_requests", handler="blob") == 0


async def nothing() -> MutableMapping[str, Any]:
    return {"type": "http.disconnect"}


async def ignore(message: MutableMapping[str, Any]) -> None:
    pass


async def test_a_failing_app_counts_as_500() -> None:
    async def boom(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    registry = CollectorRegistry()
    app = MetricsMiddleware(boom, metrics=Metrics(registry))
    with pytest.raises(RuntimeError):
        await app({"type": "http", "method": "GET", "path": "/v2/"}, nothing, ignore)
    assert (
        sample(registry, "registry_http_requests_total", handler="base", method="GET", code="500")
        == 1
    )


def test_render_is_prometheus_text() -> None:
    registry = CollectorRegistry()
    Metrics(registry).requests.labels("base", "GET", "200").inc()
    body, content_type = render(registry)
    assert content_type.startswith("text/plain")
    assert b'registry_http_requests_total{code="200",handler="base",method="GET"} 1.0' in body
