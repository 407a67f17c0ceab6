"""Compatibility with distribution 2.8's on-disk layout, in both directions.

skopeo pushes images to Debian's ``docker-registry`` (distribution 2.8); we then open the
same filesystem root with ``Registry`` and must see exactly what distribution served.
Then the reverse: content written by ``Registry`` is served by distribution.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pyregistry.storage import Digest, Registry
from storage_drivers import create_driver
from tests.storage.helpers import OCI_MANIFEST, stream
from tests.support.command import find_tool, run
from tests.support.distribution import run_distribution
from tests.support.images import (
    Image,
    MultiArchImage,
    build_image,
    build_multiarch,
    write_multiarch_layout,
    write_oci_layout,
)

ACCEPT = ",".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


@dataclass
class Served:
    """What distribution served for one pushed reference before it was stopped."""

    repository: str
    tag: str
    digest: str  # as skopeo reported it (--digestfile)
    manifest: bytes
    content_type: str
    blobs: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Pushed:
    root: Path
    image: Image
    multi: MultiArchImage
    refs: list[Served]
    catalog: list[str]
    tags: dict[str, list[str]]


def _skopeo_copy(source: str, dest: str, digestfile: Path, *extra: str) -> str:
    skopeo = find_tool("skopeo")
    run(
        [
            skopeo,
            "copy",
            "--dest-tls-verify=false",
            "--digestfile",
            digestfile,
            *extra,
            source,
            dest,
        ]
    )
    return digestfile.read_text().strip()


def _fetch(client: httpx.Client, repository: str, tag: str, digest: str) -> Served:
    response = client.get(f"/v2/{repository}/manifests/{tag}", headers={"Accept": ACCEPT})
    response.raise_for_status()
    served = Served(repository, tag, digest, response.content, response.headers["content-type"])
    document = json.loads(response.content)
    referenced = [document["config"], *document["layers"]] if "config" in document else []
    for desc in referenced:
        blob = client.get(f"/v2/{repository}/blobs/{desc['digest']}")
        blob.raise_for_status()
        served.blobs[desc["digest"]] = blob.content
    return served


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Pushed:
    work = tmp_path_factory.mktemp("distribution-layout")
    image = build_image(seed="layout", layers=2)
    layout = write_oci_layout(work / "oci", image)
    multi = build_multiarch(seed="layout-multi")
    multi_layout = write_multiarch_layout(work / "multi", multi)
    root = work / "root"
    refs: list[Served] = []
    with run_distribution(root) as dist:
        host = dist.host
        pushes = [
            ("lib/hello", "v1", f"oci:{layout}:latest", ()),
            ("lib/hello", "stable", f"oci:{layout}:latest", ()),
            ("other/hello-docker", "v1", f"oci:{layout}:latest", ("--format", "v2s2")),
            ("lib/multi", "v1", f"oci:{multi_layout}:latest", ("--all",)),
        ]
        with httpx.Client(base_url=dist.url, timeout=30) as client:
            for i, (repository, tag, source, extra) in enumerate(pushes):
                digest = _skopeo_copy(
                    source, f"docker://{host}/{repository}:{tag}", work / f"digest{i}", *extra
                )
                refs.append(_fetch(client, repository, tag, digest))
            catalog = client.get("/v2/_catalog").json()["repositories"]
            tags = {
                repository: client.get(f"/v2/{repository}/tags/list").json()["tags"]
                for repository in catalog
            }
    return Pushed(root, image, multi, refs, catalog, tags)


@pytest.fixture
async def on_root(pushed: Pushed) -> AsyncIterator[Registry]:
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(pushed.root)}))
    yield registry
    await registry.close()


def test_push_as_expected(pushed: Pushed) -> None:
    by_ref = {(r.repository, r.tag): r for r in pushed.refs}
    assert by_ref[("lib/hello", "v1")].digest == pushed.image.manifest_digest
    assert by_ref[("lib/hello", "v1")].manifest == pushed.image.manifest
    assert by_ref[("lib/hello", "stable")].digest == pushed.image.manifest_digest
    docker = by_ref[("other/hello-docker", "v1")]
    assert docker.content_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert sorted(pushed.catalog) == ["lib/hello", "lib/multi", "other/hello-docker"]


async def test_tags_resolve_to_skopeo_digests(pushed: Pushed, on_root: Registry) -> None:
    for ref in pushed.refs:
        repo = on_root.repository(ref.repository)
        digest = await repo.tags.get(ref.tag)
        assert str(digest) == ref.digest
        stored = await repo.manifests.get(digest)
        assert stored.content == ref.manifest
        assert stored.media_type == ref.content_type
        assert Digest.from_bytes(stored.content) == digest
        assert await repo.manifests.exists(digest)


async def test_blobs_byte_identical(pushed: Pushed, on_root: Registry) -> None:
    checked = 0
    for ref in pushed.refs:
        repo = on_root.repository(ref.repository)
        for digest_text, content in ref.blobs.items():
            digest = Digest.parse(digest_text)
            descriptor = await repo.blobs.stat(digest)
            assert descriptor.size == len(content)
            assert b"".join([c async for c in await repo.blobs.open(digest)]) == content
            checked += 1
    assert checked >= 6
    hello = on_root.repository("lib/hello")
    for digest_text, content in pushed.image.blobs().items():  # the very bytes skopeo sent
        digest = Digest.parse(digest_text)
        assert await on_root.stat_blob(digest) == await hello.blobs.stat(digest)
        assert b"".join([c async for c in await hello.blobs.open(digest)]) == content


async def test_index_children_byte_identical(pushed: Pushed, on_root: Registry) -> None:
    multi = next(r for r in pushed.refs if r.repository == "lib/multi")
    repo = on_root.repository("lib/multi")
    index = await repo.manifests.get(Digest.parse(multi.digest))
    assert index.content == pushed.multi.index == multi.manifest
    assert index.media_type == "application/vnd.oci.image.index.v1+json"
    children = {c["digest"] for c in json.loads(index.content)["manifests"]}
    assert children == {image.manifest_digest for image in pushed.multi.images.values()}
    for image in pushed.multi.images.values():
        stored = await repo.manifests.get(Digest.parse(image.manifest_digest))
        assert stored.content == image.manifest
        assert stored.media_type == OCI_MANIFEST
        for digest_text, content in image.blobs().items():
            chunks = await repo.blobs.open(Digest.parse(digest_text))
            assert b"".join([c async for c in chunks]) == content


async def test_catalog_and_tags_match(pushed: Pushed, on_root: Registry) -> None:
    assert await on_root.catalog() == pushed.catalog
    for repository, tags in pushed.tags.items():
        assert await on_root.repository(repository).tags.list() == sorted(tags)


async def test_distribution_serves_what_we_write(tmp_path: Path) -> None:
    """The reverse direction: our layout is distribution's, so it serves our content."""
    root = tmp_path / "root"
    image = build_image(seed="reverse", layers=1)
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    try:
        repo = registry.repository("ours/app")
        for digest_text, content in image.blobs().items():
            session = await repo.uploads.create()
            await session.append(stream(content[:10]))
            await session.append(stream(content[10:]), offset=10)
            await session.commit(Digest.parse(digest_text))
        result = await repo.manifests.put(image.manifest, OCI_MANIFEST)
        await repo.tags.tag("v1", result.digest)
        await repo.tags.tag("v2", result.digest)
    finally:
        await registry.close()
    with run_distribution(root) as dist:
        async with httpx.AsyncClient(base_url=dist.url, timeout=30) as client:
            response = await client.get("/v2/ours/app/manifests/v1", headers={"Accept": ACCEPT})
            assert response.status_code == 200, response.text
            assert response.content == image.manifest
            assert response.headers["docker-content-digest"] == image.manifest_digest
            assert response.headers["content-type"] == OCI_MANIFEST
            for digest_text, content in image.blobs().items():
                blob = await client.get(f"/v2/ours/app/blobs/{digest_text}")
                assert blob.status_code == 200 and blob.content == content
            tags = await client.get("/v2/ours/app/tags/list")
            assert tags.json()["tags"] == ["v1", "v2"]
            catalog = await client.get("/v2/_catalog")
            assert catalog.json()["repositories"] == ["ours/app"]
            # a delete through distribution is seen by us
            deleted = await client.delete(f"/v2/ours/app/manifests/{image.manifest_digest}")
            assert deleted.status_code == 202
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    try:
        repo = registry.repository("ours/app")
        assert not await repo.manifests.exists(result.digest)
        assert await repo.tags.list() == []
    finally:
        await registry.close()
