"""pyregistry's ``mirrors`` list: several upstreams under prefixes beside normal
repositories, ``library/`` defaulting, allow-lists, local-first and the tag ttl."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

import pyregistry
from pyregistry import EmbeddedRegistry
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_artifact, build_image
from tests.client.proxy import TcpProxy
from tests.proxy.conftest import USER, MirrorFactory, point_relay
from tests.support.distribution import DistributionRegistry
from tests.support.server import run_server
from tests.support.skopeo import NO_CREDS, Skopeo


@pytest.fixture
def open_upstream() -> Iterator[EmbeddedRegistry]:
    with pyregistry.serve() as registry:
        yield registry


def test_two_upstreams_and_local_repositories(
    open_upstream: EmbeddedRegistry,
    basic_upstream: DistributionRegistry,
    start_mirror: MirrorFactory,
) -> None:
    hub_image = build_image(seed="mirrors-hub", layers=1)
    other_image = build_image(seed="mirrors-other", layers=1)
    local_image = build_image(seed="mirrors-local", layers=1)
    with RegistryClient(open_upstream.url) as up:
        up.push("library/busybox", hub_image, "latest")
    with RegistryClient(basic_upstream.url, credentials=USER) as up:
        up.push("team/tool", other_image, "v1")
    mirror = start_mirror(
        mirrors=[
            {"prefix": "hub", "url": open_upstream.url, "library": True},
            {
                "prefix": "corp",
                "url": basic_upstream.url,
                "username": USER[0],
                "password": USER[1],
            },
        ]
    )
    with RegistryClient(mirror) as client:
        assert client.get_manifest("hub/busybox", "latest").digest == hub_image.digest
        assert client.get_manifest("hub/library/busybox", "latest").digest == hub_image.digest
        for digest, data in hub_image.blobs().items():
            assert client.get_blob("hub/busybox", digest) == data
        assert client.get_manifest("corp/team/tool", "v1").digest == other_image.digest
        assert "latest" in client.tags("hub/busybox")
        # outside every prefix: a normal, pushable repository
        client.push("mine/app", local_image, "v1")
        assert client.get_manifest("mine/app", "v1").digest == local_image.digest
        assert set(client.catalog()) >= {"hub/busybox", "corp/team/tool", "mine/app"}
    response = httpx.post(f"{mirror}/v2/hub/busybox/blobs/uploads/")
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_allow_list(open_upstream: EmbeddedRegistry, start_mirror: MirrorFactory) -> None:
    image = build_image(seed="mirrors-allow", layers=1)
    with RegistryClient(open_upstream.url) as up:
        up.push("library/allowed", image, "v1")
        up.push("library/secret", image, "v1")
    mirror = start_mirror(
        mirrors=[
            {"prefix": "hub", "url": open_upstream.url, "allow": ["library/allow*"]},
        ]
    )
    assert httpx.get(f"{mirror}/v2/hub/library/allowed/manifests/v1").status_code == 200
    refused = httpx.get(f"{mirror}/v2/hub/library/secret/manifests/v1")
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    layer = image.layer_digests[0]
    assert httpx.get(f"{mirror}/v2/hub/library/secret/blobs/{layer}").status_code == 404


def test_local_first_pushes_shadow_the_upstream(
    open_upstream: EmbeddedRegistry, start_mirror: MirrorFactory
) -> None:
    upstream_image = build_image(seed="mirrors-lf-up", layers=1)
    pushed = build_image(seed="mirrors-lf-local", layers=1)
    with RegistryClient(open_upstream.url) as up:
        up.push("team/app", upstream_image, "v1")
        up.push("team/app", upstream_image, "v2")
    mirror = start_mirror(mirrors=[{"prefix": "up", "url": open_upstream.url, "localfirst": True}])
    with RegistryClient(mirror) as client:
        client.push("up/team/app", pushed, "v1")
        assert client.get_manifest("up/team/app", "v1").digest == pushed.digest
        assert client.get_manifest("up/team/app", "v2").digest == upstream_image.digest
        assert set(client.tags("up/team/app")) == {"v1", "v2"}
        client.delete_manifest("up/team/app", pushed.digest)
    with RegistryClient(open_upstream.url) as up:
        assert up.get_manifest("team/app", "v1").digest == upstream_image.digest


def test_moved_tag_is_seen_after_the_ttl_not_before(
    open_upstream: EmbeddedRegistry, start_mirror: MirrorFactory
) -> None:
    first = build_image(seed="mirrors-ttl-1", layers=1)
    second = build_image(seed="mirrors-ttl-2", layers=1)
    with RegistryClient(open_upstream.url) as up:
        up.push("team/app", first, "v1")
    mirror = start_mirror(mirrors=[{"prefix": "up", "url": open_upstream.url, "ttl": "3s"}])
    with RegistryClient(mirror) as client:
        assert client.get_manifest("up/team/app", "v1").digest == first.digest
        pulled_at = time.monotonic()
        with RegistryClient(open_upstream.url) as up:
            up.push("team/app", second, "v1")
        assert client.get_manifest("up/team/app", "v1").digest == first.digest
        assert time.monotonic() - pulled_at < 3, "too slow to see the ttl hold"
        time.sleep(3.5 - (time.monotonic() - pulled_at))
        assert client.get_manifest("up/team/app", "v1").digest == second.digest
        # both stay cached by digest
        assert client.get_manifest("up/team/app", first.digest).digest == first.digest


def test_referrers_come_from_the_upstream_and_pulls_are_counted(
    open_upstream: EmbeddedRegistry, start_mirror: MirrorFactory
) -> None:
    image = build_image(seed="mirrors-referrers", layers=1)
    signature = build_artifact(
        "application/vnd.example.signature", [b"signed"], subject=image.descriptor()
    )
    with RegistryClient(open_upstream.url) as up:
        up.push("team/app", image, "v1")
        up.push("team/app", signature)
    mirror = start_mirror(mirrors=[{"prefix": "refs", "url": open_upstream.url}])
    hits = REGISTRY.get_sample_value(
        "registry_proxy_hits_total", {"upstream": "refs", "kind": "manifest"}
    )
    with RegistryClient(mirror) as client:
        found = client.referrers("refs/team/app", image.digest)
        assert [d["digest"] for d in found["manifests"]] == [signature.digest]
        client.get_manifest("refs/team/app", image.digest)
        client.get_manifest("refs/team/app", image.digest)
    assert (
        REGISTRY.get_sample_value(
            "registry_proxy_misses_total", {"upstream": "refs", "kind": "manifest"}
        )
        == 1
    )
    after = REGISTRY.get_sample_value(
        "registry_proxy_hits_total", {"upstream": "refs", "kind": "manifest"}
    )
    assert after == (hits or 0) + 1
    upstream_bytes = REGISTRY.get_sample_value(
        "registry_proxy_upstream_bytes_total", {"upstream": "refs"}
    )
    assert upstream_bytes is not None and upstream_bytes >= len(image.manifest)


def test_skopeo_through_a_prefix_to_a_bearer_upstream(
    token_upstream: EmbeddedRegistry, start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    image = build_image(seed="mirrors-skopeo", layers=2, layer_size=40_000)
    with RegistryClient(token_upstream.url, credentials=USER) as up:
        up.push("team/app", image, "v1")
    mirror = start_mirror(
        mirrors=[
            {
                "prefix": "tok",
                "url": token_upstream.url,
                "username": USER[0],
                "password": USER[1],
            }
        ]
    )
    host = mirror.removeprefix("http://")
    copied = Skopeo(tmp_path).copy(
        f"docker://{host}/tok/team/app:v1", f"oci:{tmp_path / 'layout'}:v1", src_creds=NO_CREDS
    )
    assert copied == image.digest


def test_upstream_tokens_are_cached(
    token_upstream: EmbeddedRegistry,
    relay: TcpProxy,
    start_mirror: MirrorFactory,
) -> None:
    image = build_image(seed="mirrors-tokens", layers=3, layer_size=10_000)
    with RegistryClient(token_upstream.url, credentials=USER) as up:
        up.push("team/tokens", image, "v1")
    point_relay(relay, token_upstream.url)
    mirror = start_mirror(
        mirrors=[{"prefix": "t", "url": relay.url, "username": USER[0], "password": USER[1]}]
    )
    with RegistryClient(mirror) as client:
        client.get_manifest("t/team/tokens", "v1")
        for digest in image.blobs():
            client.get_blob("t/team/tokens", digest)
    token_requests = [p for p in relay.paths() if p.startswith("/auth/token")]
    upstream_requests = [p for p in relay.paths() if p.startswith("/v2/team/tokens/")]
    assert len(upstream_requests) >= 5
    assert len(token_requests) == 1, relay.requests


def test_tag_recheck_is_a_head_and_5xx_keeps_the_cached_tag(
    open_upstream: EmbeddedRegistry, relay: TcpProxy, start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    image = build_image(seed="mirrors-head", layers=1)
    with RegistryClient(open_upstream.url) as up:
        up.push("team/app", image, "v1")
    point_relay(relay, open_upstream.url)
    root = tmp_path / "mirror"
    mirror = start_mirror(root, mirrors=[{"prefix": "up", "url": relay.url}])  # ttl 0
    with RegistryClient(mirror) as client:
        for _ in range(3):
            assert client.get_manifest("up/team/app", "v1").digest == image.digest
    manifest_gets = [p for p in relay.paths("GET") if "/manifests/" in p]
    assert len(manifest_gets) == 1, relay.requests  # fetched once, by digest
    assert len([p for p in relay.paths("HEAD") if p.endswith("/manifests/v1")]) == 3
    with run_server(_answers_503) as broken:  # an upstream answering 5xx to everything
        # another instance on the same storage, whose upstream is in trouble
        mirror = start_mirror(root, mirrors=[{"prefix": "up", "url": broken}])
        with RegistryClient(mirror) as client:
            assert client.get_manifest("up/team/app", "v1").digest == image.digest
        unknown = httpx.get(f"{mirror}/v2/up/team/other/manifests/v1")
    assert unknown.status_code == 503
    assert unknown.json()["errors"][0]["code"] == "UNAVAILABLE"


async def _answers_503(scope: Any, receive: Any, send: Any) -> None:
    """An upstream in trouble: 503 with an OCI error body for every request."""
    if scope["type"] != "http":
        return
    body = b'{"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
