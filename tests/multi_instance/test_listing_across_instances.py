"""Listings through either instance are exact right after a push or delete through the
other: both keep the metadata index in the shared Redis (``redis`` is configured)."""

from __future__ import annotations

import time

from tests.multi_instance.http_client import push_blob
from tests.multi_instance.instances import Instance, RegistryPair
from tests.support.images import OCI_MANIFEST, build_image

INDEX = "pyregistry:index:"


def _tags(pair: RegistryPair, instance: Instance, repo: str) -> list[str]:
    response = pair.client.get(instance.url(f"/v2/{repo}/tags/list"))
    assert response.status_code == 200, response.text
    tags: list[str] = response.json()["tags"]
    return tags


def _catalog(pair: RegistryPair, instance: Instance, last: str) -> list[str]:
    response = pair.client.get(instance.url("/v2/_catalog"), params={"last": last})
    names: list[str] = response.json()["repositories"]
    return names


def test_listings_exact_on_the_other_instance(proxied_pair: RegistryPair) -> None:
    pair = proxied_pair
    image = build_image(seed="multi-listing", layers=1, layer_size=1024)
    expected: dict[str, list[str]] = {}
    for i in range(12):
        writer, reader = (pair.a, pair.b) if i % 2 else (pair.b, pair.a)
        repo = f"zz-listing/r{i % 3}"
        for data in image.blobs().values():
            push_blob(pair.client, writer, repo, data)
        put = pair.client.put(
            writer.url(f"/v2/{repo}/manifests/t{i}"),
            content=image.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201, put.text
        expected.setdefault(repo, []).append(f"t{i}")
        if i % 4 == 3:
            deleted = pair.client.delete(writer.url(f"/v2/{repo}/manifests/t{i - 3}"))
            assert deleted.status_code == 202, deleted.text
            expected[repo].remove(f"t{i - 3}")
        for instance in (reader, writer, reader):
            assert _tags(pair, instance, repo) == sorted(expected[repo])
            assert _catalog(pair, instance, "zz-") == sorted(expected)

    # The answers came from the index in Redis, which holds exactly that.
    redis = pair.redis_client()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        dirty = [repo for repo in expected if redis.hget(f"{INDEX}repo:{repo}", "dirty") != "0"]
        if redis.hget(f"{INDEX}meta", "ready") == "1" and not dirty:
            break
        time.sleep(0.1)
    assert redis.hget(f"{INDEX}meta", "ready") == "1"
    for repo, tags in expected.items():
        assert redis.hget(f"{INDEX}repo:{repo}", "dirty") == "0"
        assert redis.zrange(f"{INDEX}tags:{repo}", 0, -1) == sorted(tags)
