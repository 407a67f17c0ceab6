"""distribution's ``proxy`` section: a read-through mirror of one upstream.

Upstreams are real: distribution 2.8 behind htpasswd (the mirror logs in with Basic) and
pyregistry with its token service (the mirror runs the Bearer flow). Clients are
pyregistry's own client over HTTP, and skopeo.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.proxy.conftest import USER, MirrorFactory
from tests.support.command import stop_process
from tests.support.distribution import DistributionRegistry
from tests.support.skopeo import NO_CREDS, Skopeo


def _proxy(upstream: str, **extra: str) -> dict[str, str]:
    return {"remoteurl": upstream, "username": USER[0], "password": USER[1], **extra}


def _blob_gets(upstream: DistributionRegistry, digest: str) -> int:
    return sum(
        1 for line in upstream.log_text().splitlines() if "GET /v2/" in line and digest in line
    )


def test_pull_through_caches_and_survives_the_upstream(
    basic_upstream: DistributionRegistry, start_mirror: MirrorFactory
) -> None:
    image = build_image(seed="proxy-basic", layers=2, layer_size=300_000)
    with RegistryClient(basic_upstream.url, credentials=USER) as up:
        up.push("library/app", image, "v1")
    mirror = start_mirror(proxy=_proxy(basic_upstream.url))

    with RegistryClient(mirror) as client:
        manifest = client.get_manifest("library/app", "v1")
        assert manifest.digest == image.digest
        for digest, data in image.blobs().items():
            assert client.get_blob("library/app", digest) == data
        # again: from the cache, not the upstream
        layer = image.layer_digests[0]
        gets = _blob_gets(basic_upstream, layer)
        assert gets >= 1
        assert client.get_blob("library/app", layer) == image.blobs()[layer]
        assert _blob_gets(basic_upstream, layer) == gets

    stop_process(basic_upstream.process)
    with RegistryClient(mirror) as client:
        assert client.get_manifest("library/app", "v1").digest == image.digest
        assert client.get_manifest("library/app", image.digest).digest == image.digest
        for digest, data in image.blobs().items():
            assert client.get_blob("library/app", digest) == data
    started = time.monotonic()
    response = httpx.get(f"{mirror}/v2/library/other/manifests/v1")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "UNAVAILABLE"


def test_unknown_upstream_content_is_unknown(
    basic_upstream: DistributionRegistry, start_mirror: MirrorFactory
) -> None:
    mirror = start_mirror(proxy=_proxy(basic_upstream.url))
    response = httpx.get(f"{mirror}/v2/library/none/manifests/v1")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    missing = "sha256:" + "0" * 64
    response = httpx.get(f"{mirror}/v2/library/none/blobs/{missing}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_pushes_and_deletes_are_refused(
    basic_upstream: DistributionRegistry, start_mirror: MirrorFactory
) -> None:
    image = build_image(seed="proxy-refused", layers=1)
    with RegistryClient(basic_upstream.url, credentials=USER) as up:
        up.push("library/app", image, "v1")
    mirror = start_mirror(proxy=_proxy(basic_upstream.url))
    with RegistryClient(mirror) as client:
        client.get_manifest("library/app", "v1")
    base = f"{mirror}/v2/library/app"
    answers = [
        httpx.post(f"{base}/blobs/uploads/"),
        httpx.put(
            f"{base}/manifests/v2",
            content=image.manifest,
            headers={"Content-Type": image.media_type},
        ),
        httpx.delete(f"{base}/manifests/{image.digest}"),
        httpx.delete(f"{base}/manifests/v1"),
        httpx.delete(f"{base}/blobs/{image.layer_digests[0]}"),
        httpx.post(f"{base}/blobs/uploads/?mount={image.layer_digests[0]}&from=library/x"),
    ]
    for response in answers:
        assert response.status_code == 405, response.text
        assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    with RegistryClient(mirror) as client:
        assert client.get_manifest("library/app", "v1").digest == image.digest


def test_bearer_token_upstream_and_skopeo(
    token_upstream: object, start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    url = token_upstream.url  # type: ignore[attr-defined]
    image = build_image(seed="proxy-token", layers=2, layer_size=50_000)
    with RegistryClient(url, credentials=USER) as up:
        up.push("team/app", image, "v1")
    mirror = start_mirror(proxy={"remoteurl": url, "username": USER[0], "password": USER[1]})
    host = mirror.removeprefix("http://")
    skopeo = Skopeo(tmp_path)
    digest = skopeo.copy(
        f"docker://{host}/team/app:v1", f"oci:{tmp_path / 'layout'}:v1", src_creds=NO_CREDS
    )
    assert digest == image.digest
    # the cache answers by digest and by tag the second time
    again = skopeo.copy(
        f"docker://{host}/team/app@{image.digest}",
        f"oci:{tmp_path / 'again'}:v1",
        src_creds=NO_CREDS,
    )
    assert again == image.digest


class RecordingSink:
    """An event sink as notifications get them: kinds and the digests they name."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    async def emit(self, event_kind: str, **details: Any) -> None:
        self.events.append((event_kind, details.get("digest")))


def test_proxied_pulls_are_pull_events(
    basic_upstream: DistributionRegistry, start_mirror: MirrorFactory
) -> None:
    image = build_image(seed="proxy-events", layers=1)
    with RegistryClient(basic_upstream.url, credentials=USER) as up:
        up.push("library/app", image, "v1")
    sink = RecordingSink()
    mirror = start_mirror(proxy=_proxy(basic_upstream.url), event_sink=sink)
    with RegistryClient(mirror) as client:
        client.get_manifest("library/app", "v1")
        client.get_blob("library/app", image.layer_digests[0])
        client.get_blob("library/app", image.layer_digests[0])  # from the cache
    assert ("manifest.pull", image.digest) in sink.events
    assert sink.events.count(("blob.pull", image.layer_digests[0])) == 2
    assert not [kind for kind, _ in sink.events if kind.endswith(".push")]
