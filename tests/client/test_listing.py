"""Lists page by page, referrers, HEADs, deletes and typed errors against pyregistry;
and a lying upstream whose bytes do not match their digest is caught."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import pyregistry
from pyregistry import EmbeddedRegistry
from pyregistry.client import (
    AsyncRegistryClient,
    DigestMismatchError,
    NotFoundError,
    RegistryResponseError,
)
from pyregistry.client.content import build_artifact, build_image, build_multiarch
from pyregistry.client.media import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, sha256_digest
from pyregistry.embedding import BackgroundServer


async def test_tags_and_catalog_follow_pages(open_registry: EmbeddedRegistry) -> None:
    image = build_image(seed="pages", layers=1)
    tags = [f"v{i}" for i in range(7)]
    repositories = [f"pages/repo{i}" for i in range(5)]
    async with AsyncRegistryClient(open_registry.url) as client:
        for tag in tags:
            await client.push("pages/repo0", image, tag)
        for repository in repositories[1:]:
            await client.push(repository, image, "latest")
        assert await client.tags("pages/repo0", page_size=2) == sorted(tags)
        assert [tag async for tag in client.iter_tags("pages/repo0", page_size=3)] == tags
        listed = await client.catalog(page_size=2)
        assert [name for name in listed if name.startswith("pages/")] == repositories
        with pytest.raises(NotFoundError) as unknown:
            await client.tags("pages/unknown")
        assert unknown.value.code == "NAME_UNKNOWN"


async def test_manifests_heads_referrers_and_deletes(open_registry: EmbeddedRegistry) -> None:
    index = build_multiarch(seed="listing-index", architectures=("amd64", "arm64"))
    docker = build_image(seed="listing-docker", layers=1, docker=True)
    async with AsyncRegistryClient(open_registry.url) as client:
        assert await client.push("meta/app", index, "multi") == index.digest
        assert await client.push("meta/app", docker, "docker") == docker.digest
        head = await client.head_manifest("meta/app", "multi")
        assert head is not None
        assert (head.media_type, head.digest, head.size) == (
            OCI_INDEX,
            index.digest,
            len(index.manifest),
        )
        # Accept negotiation: the docker manifest is served as what it is
        served = await client.get_manifest("meta/app", "docker", accept=[DOCKER_MANIFEST])
        assert (served.media_type, served.content) == (DOCKER_MANIFEST, docker.manifest)
        assert await client.head_manifest("meta/app", "missing") is None

        subject = index.images["amd64"]
        sbom = build_artifact("application/x.sbom", [b"{}"], subject=subject.descriptor())
        sig = build_artifact("application/x.sig", [b"sig"], subject=subject.descriptor())
        for artifact in (sbom, sig):
            await client.push("meta/app", artifact)
        found = await client.referrers("meta/app", subject.digest)
        assert {m["digest"] for m in found["manifests"]} == {sbom.digest, sig.digest}
        only = await client.referrers("meta/app", subject.digest, artifact_type="application/x.sig")
        assert [m["digest"] for m in only["manifests"]] == [sig.digest]

        await client.delete_manifest("meta/app", docker.digest)
        with pytest.raises(NotFoundError) as gone:
            await client.get_manifest("meta/app", docker.digest)
        assert gone.value.code == "MANIFEST_UNKNOWN"
        layer = docker.layer_digests[0]
        await client.delete_blob("meta/app", layer)
        assert not await client.blob_exists("meta/app", layer)
        with pytest.raises(RegistryResponseError) as invalid:
            await client.push_manifest("meta/app", "bad", b"{not json", OCI_MANIFEST)
        assert invalid.value.status_code == 400
        assert invalid.value.code == "MANIFEST_INVALID"


GOOD = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
BAD = GOOD.replace(b"2", b"3")


async def _lying(request: Request) -> Response:
    """Serves BAD under GOOD's digest: a corrupted upstream."""
    return Response(
        BAD,
        media_type=OCI_MANIFEST,
        headers={"Docker-Content-Digest": sha256_digest(GOOD)},
    )


@pytest.fixture(scope="module")
def liar() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/v2/{name:path}/manifests/{reference}", _lying),
            Route("/v2/{name:path}/blobs/{digest}", _lying),
        ]
    )
    server = BackgroundServer(app, name="lying-upstream").start()
    try:
        yield server.url
    finally:
        server.stop()


async def test_content_that_does_not_match_its_digest_is_refused(liar: str) -> None:
    async with AsyncRegistryClient(liar) as client:
        with pytest.raises(DigestMismatchError) as by_tag:
            await client.get_manifest("any/repo", "v1")  # the announced digest is checked
        assert by_tag.value.expected == sha256_digest(GOOD)
        assert by_tag.value.actual == sha256_digest(BAD)
        with pytest.raises(DigestMismatchError):
            await client.get_manifest("any/repo", sha256_digest(GOOD))
        with pytest.raises(DigestMismatchError):
            await client.get_blob("any/repo", sha256_digest(GOOD))


def test_embedding_public_api_is_the_client() -> None:
    assert pyregistry.RegistryClient is pyregistry.client.RegistryClient
    assert pyregistry.RegistryResponseError is pyregistry.client.RegistryResponseError
