"""Blob GETs answered with a 307 to a presigned S3 URL, followed by real clients.

SeaweedFS verifies presigned signatures, so following the redirect proves the URL is
signed right (key, expiry, host) and tampering with it proves SeaweedFS checks it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx

from tests.multi_instance.http_client import error_codes, push_blob, push_image
from tests.multi_instance.instances import Instance, RegistryPair
from tests.support.docker import Docker
from tests.support.images import build_image, read_layout_blob, read_layout_manifest
from tests.support.skopeo import Skopeo

#: An access-log line of a blob GET answered with a redirect.
_REDIRECTED_BLOB_GET = re.compile(r'"GET /v2/[^ ]+/blobs/sha256:[0-9a-f]{64} HTTP/[\d.]+" 307 ')


def _redirect(pair: RegistryPair, instance: Instance, repo: str, digest: str) -> str:
    """GET the blob without following: must be a 307 to SeaweedFS; the Location."""
    response = pair.client.get(instance.url(f"/v2/{repo}/blobs/{digest}"))
    assert response.status_code == 307, f"{instance.name}: {response.status_code} {response.text}"
    assert response.headers["docker-content-digest"] == digest
    location = httpx.URL(response.headers["location"])
    assert f"{location.scheme}://{location.host}:{location.port}" == pair.s3_endpoint
    assert location.path.startswith(f"/{pair.s3.bucket}{pair.rootdirectory}/docker/registry/v2/")
    assert location.path.endswith(f"/{digest.split(':', 1)[1]}/data")
    assert "X-Amz-Signature" in location.params
    return str(location)


def test_get_redirects_to_a_presigned_url_that_serves_the_blob(redirect_pair: RegistryPair) -> None:
    pair, a, b = redirect_pair, redirect_pair.a, redirect_pair.b
    repo = "multi/redirect"
    data = b"redirected blob " * 40_000
    digest = push_blob(pair.client, a, repo, data)

    for instance in (a, b):
        location = _redirect(pair, instance, repo, digest)
        with httpx.Client(timeout=60.0) as plain:  # a client that never saw the registry
            fetched = plain.get(location)
            assert fetched.status_code == 200, fetched.text
            assert fetched.content == data
            ranged = plain.get(location, headers={"Range": "bytes=16-31"})
            assert ranged.status_code == 206
            assert ranged.content == data[16:32]

    # A client that follows redirects gets the bytes in one call.
    followed = pair.client.get(b.url(f"/v2/{repo}/blobs/{digest}"), follow_redirects=True)
    assert followed.status_code == 200
    assert followed.content == data
    assert len(followed.history) == 1

    # HEAD is answered by the registry itself.
    head = pair.client.head(a.url(f"/v2/{repo}/blobs/{digest}"))
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["docker-content-digest"] == digest
    assert "location" not in head.headers


def test_no_redirect_for_a_blob_the_repository_does_not_link(redirect_pair: RegistryPair) -> None:
    pair, a, b = redirect_pair, redirect_pair.a, redirect_pair.b
    digest = push_blob(pair.client, a, "multi/redirect-owner", b"only linked in one repository")
    response = pair.client.get(b.url(f"/v2/multi/redirect-other/blobs/{digest}"))
    assert response.status_code == 404
    assert "location" not in response.headers
    assert error_codes(response) == ["BLOB_UNKNOWN"]


def _with_param(url: str, name: str, value: str) -> str:
    parsed = httpx.URL(url)
    params = [(k, value if k == name else v) for k, v in parse_qsl(parsed.query.decode())]
    return str(parsed.copy_with(query=urlencode(params).encode()))


def test_tampered_presigned_urls_are_refused_by_s3(redirect_pair: RegistryPair) -> None:
    pair, a = redirect_pair, redirect_pair.a
    digest = push_blob(pair.client, a, "multi/redirect-tamper", b"signed bytes")
    other = push_blob(pair.client, a, "multi/redirect-tamper", b"other signed bytes")
    location = _redirect(pair, a, "multi/redirect-tamper", digest)
    signature = httpx.URL(location).params["X-Amz-Signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    tampered = [
        _with_param(location, "X-Amz-Signature", flipped),
        _with_param(location, "X-Amz-Expires", "86400"),
        location.replace(digest.split(":", 1)[1], other.split(":", 1)[1]),
    ]
    with httpx.Client(timeout=30.0) as plain:
        assert plain.get(location).content == b"signed bytes"
        for url in tampered:
            refused = plain.get(url)
            assert refused.status_code == 403, f"{url}: {refused.status_code}"
            assert b"signed bytes" not in refused.content


def test_redirect_disabled_serves_the_bytes(proxied_pair: RegistryPair) -> None:
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    data = b"proxied bytes " * 1000
    digest = push_blob(pair.client, a, "multi/proxied", data)
    response = pair.client.get(b.url(f"/v2/multi/proxied/blobs/{digest}"))
    assert response.status_code == 200
    assert "location" not in response.headers
    assert response.content == data


def test_skopeo_and_docker_pull_through_the_redirect(
    redirect_pair: RegistryPair, skopeo: Skopeo, docker: Docker, tmp_path: Path
) -> None:
    """Pushed through A over HTTP; skopeo and docker pull from B, fetching from S3."""
    pair, a, b = redirect_pair, redirect_pair.a, redirect_pair.b
    image = build_image(seed="redirect-pull", layers=2, layer_size=96 * 1024)
    push_image(pair.client, a, "multi/redirect-pull", "v1", image)
    before = len(_REDIRECTED_BLOB_GET.findall(b.process.stdout))

    pulled = tmp_path / "pulled"
    skopeo.copy(f"docker://{b.host}/multi/redirect-pull:v1", f"oci:{pulled}:v1")
    assert read_layout_manifest(pulled, "v1") == image.manifest
    for digest, data in image.blobs().items():
        assert read_layout_blob(pulled, digest) == data
    after_skopeo = len(_REDIRECTED_BLOB_GET.findall(b.process.stdout))
    assert after_skopeo - before >= len(image.blobs()), b.process.stdout[-3000:]

    reference = f"{b.host}/multi/redirect-pull:v1"
    try:
        assert docker.pull(reference) == image.manifest_digest
        assert docker.inspect(reference)["Id"] == image.config_digest
    finally:
        docker.remove_images(reference)
    after_docker = len(_REDIRECTED_BLOB_GET.findall(b.process.stdout))
    assert after_docker - after_skopeo >= len(image.blobs()), b.process.stdout[-3000:]
