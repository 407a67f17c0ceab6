"""Manifests: every accepted kind, media type rules, reference checks, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyregistry.index import IndexService, SqliteBackend
from pyregistry.storage import (
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestTooLarge,
    ManifestUnknown,
    Registry,
    Repository,
    Unsupported,
    paths,
)
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    RecordingDriver,
    descriptor,
    dumps,
    image_manifest,
    push_image,
    sha256,
    sha512,
    upload,
)

CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYER = b"layer bytes" * 100


@pytest.fixture
async def blobs_pushed(repo: Repository) -> Repository:
    await upload(repo, CONFIG)
    await upload(repo, LAYER)
    return repo


async def test_oci_manifest_roundtrip(any_registry: Registry) -> None:
    repo = any_registry.repository("lib/app")
    await upload(repo, CONFIG)
    await upload(repo, LAYER)
    content = image_manifest(CONFIG, [LAYER])
    result = await repo.manifests.put(content, OCI_MANIFEST)
    assert result.digest == sha256(content) and result.subject is None
    stored = await repo.manifests.get(result.digest)
    assert stored.content == content and stored.media_type == OCI_MANIFEST
    assert stored.digest == result.digest
    assert await repo.manifests.exists(result.digest)
    assert not await repo.manifests.exists(sha256(b"nope"))


async def test_layout_on_disk(driver: InMemoryDriver, blobs_pushed: Repository) -> None:
    content = image_manifest(CONFIG, [LAYER])
    result = await blobs_pushed.manifests.put(content, OCI_MANIFEST)
    name = blobs_pushed.name
    assert await driver.get_content(paths.blob_data_path(result.digest)) == content
    link = await driver.get_content(paths.manifest_revision_link_path(name, result.digest))
    assert link == str(result.digest).encode()
    # manifests are not layers: no _layers link for them
    assert paths.layer_link_path(name, result.digest) not in driver._files


async def test_docker_schema2_and_list(blobs_pushed: Repository) -> None:
    repo = blobs_pushed
    docker = image_manifest(
        CONFIG,
        [LAYER],
        media_type=DOCKER_MANIFEST,
        config_type=DOCKER_CONFIG,
        layer_type=DOCKER_LAYER,
    )
    d = await repo.manifests.put(docker, DOCKER_MANIFEST)
    assert (await repo.manifests.get(d.digest)).media_type == DOCKER_MANIFEST
    listing = dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST,
            "manifests": [descriptor(DOCKER_MANIFEST, docker, platform={"os": "linux"})],
        }
    )
    lst = await repo.manifests.put(listing, DOCKER_LIST)
    assert (await repo.manifests.get(lst.digest)).media_type == DOCKER_LIST


async def test_oci_index(blobs_pushed: Repository) -> None:
    repo = blobs_pushed
    child = image_manifest(CONFIG, [LAYER])
    await repo.manifests.put(child, OCI_MANIFEST)
    index = dumps({"schemaVersion": 2, "manifests": [descriptor(OCI_MANIFEST, child)]})
    result = await repo.manifests.put(index, OCI_INDEX)
    assert (await repo.manifests.get(result.digest)).media_type == OCI_INDEX
    # no mediaType, no Content-Type: inferred from the shape
    inferred = dumps({"schemaVersion": 2, "manifests": [], "annotations": {"x": "y"}})
    r2 = await repo.manifests.put(inferred, None)
    assert (await repo.manifests.get(r2.digest)).media_type == OCI_INDEX


async def test_media_type_from_content_type_and_shape(blobs_pushed: Repository) -> None:
    repo = blobs_pushed
    content = image_manifest(CONFIG, [LAYER], media_type=None)
    for content_type in (OCI_MANIFEST, f"{OCI_MANIFEST}; charset=utf-8", None, "application/json"):
        result = await repo.manifests.put(content, content_type)
        assert (await repo.manifests.get(result.digest)).media_type == OCI_MANIFEST


@pytest.mark.parametrize(
    ("body_type", "content_type"),
    [(OCI_MANIFEST, OCI_INDEX), (OCI_MANIFEST, DOCKER_MANIFEST), (DOCKER_MANIFEST, OCI_MANIFEST)],
)
async def test_body_and_content_type_disagree(
    blobs_pushed: Repository, body_type: str, content_type: str
) -> None:
    content = image_manifest(CONFIG, [LAYER], media_type=body_type)
    with pytest.raises(ManifestInvalid) as info:
        await blobs_pushed.manifests.put(content, content_type)
    assert info.value.code == "MANIFEST_INVALID"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"not json", OCI_MANIFEST),
        (b"[1, 2]", OCI_MANIFEST),
        (b'{"schemaVersion": 1, "name": "x", "fsLayers": []}', None),
        (b'{"schemaVersion": 1}', "application/vnd.docker.distribution.manifest.v1+prettyjws"),
        (b'{"schemaVersion": 3, "config": {}, "layers": []}', OCI_MANIFEST),
        (b'{"schemaVersion": 2}', None),
        (b'{"schemaVersion": 2}', OCI_MANIFEST),
        (b'{"schemaVersion": 2, "mediaType": "application/x-unknown", "layers": []}', None),
        (
            b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.artifact.manifest.v1+json"}',
            None,
        ),
        (b'{"schemaVersion": 2, "manifests": [], "layers": []}', OCI_INDEX),
        (b'{"schemaVersion": 2, "manifests": "nope"}', OCI_INDEX),
        (b'{"schemaVersion": 2, "manifests": [{"digest": "sha256:00", "size": 1}]}', None),
        (b'{"schemaVersion": 2, "manifests": [], "mediaType": 5}', None),
        # Docker types must carry their mediaType in the body
        (b'{"schemaVersion": 2, "config": {}, "layers": []}', DOCKER_MANIFEST),
    ],
)
async def test_invalid_manifests(
    repo: Repository, content: bytes, content_type: str | None
) -> None:
    with pytest.raises(ManifestInvalid):
        await repo.manifests.put(content, content_type)


@pytest.mark.parametrize(
    "bad",
    [
        {"digest": "sha256:xyz", "size": 1, "mediaType": "a/b"},
        {"digest": str(sha256(b"c")), "size": -1, "mediaType": "a/b"},
        {"digest": str(sha256(b"c")), "size": "1", "mediaType": "a/b"},
        {"digest": str(sha256(b"c")), "size": True, "mediaType": "a/b"},
        {"size": 1, "mediaType": "a/b"},
        {"digest": str(sha256(b"c")), "size": 1, "mediaType": 7},
        {"digest": str(sha256(b"c")), "size": 1, "annotations": {"a": 1}},
        {"digest": str(sha256(b"c")), "size": 1, "urls": "http://x"},
        "not an object",
    ],
)
async def test_invalid_descriptors(blobs_pushed: Repository, bad: object) -> None:
    doc = json.loads(image_manifest(CONFIG, [LAYER]))
    doc["layers"].append(bad)
    with pytest.raises(ManifestInvalid):
        await blobs_pushed.manifests.put(dumps(doc), OCI_MANIFEST)
    doc["layers"].pop()
    doc["config"] = bad
    with pytest.raises(ManifestInvalid):
        await blobs_pushed.manifests.put(dumps(doc), OCI_MANIFEST)


async def test_missing_blobs(repo: Repository) -> None:
    await upload(repo, CONFIG)
    content = image_manifest(CONFIG, [LAYER])
    with pytest.raises(ManifestBlobUnknown) as info:
        await repo.manifests.put(content, OCI_MANIFEST)
    assert info.value.code == "MANIFEST_BLOB_UNKNOWN"
    assert info.value.detail == {"digest": str(sha256(LAYER))}
    assert not await repo.manifests.exists(sha256(content))
    # config missing
    other = image_manifest(b"{}", [])
    with pytest.raises(ManifestBlobUnknown) as info:
        await repo.manifests.put(other, OCI_MANIFEST)
    assert info.value.detail == {"digest": str(sha256(b"{}"))}


async def test_blob_linked_elsewhere_is_not_enough(registry: Registry) -> None:
    a, b = registry.repository("a"), registry.repository("b")
    await upload(a, CONFIG)
    await upload(a, LAYER)
    await upload(b, CONFIG)
    with pytest.raises(ManifestBlobUnknown):
        await b.manifests.put(image_manifest(CONFIG, [LAYER]), OCI_MANIFEST)


async def test_foreign_and_nondistributable_layers_need_not_exist(repo: Repository) -> None:
    await upload(repo, CONFIG)
    doc = json.loads(image_manifest(CONFIG, []))
    doc["layers"] = [
        descriptor("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", b"win"),
        descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", b"nd"),
        descriptor("application/vnd.oci.image.layer.v1.tar", b"remote", urls=["https://x/y"]),
    ]
    result = await repo.manifests.put(dumps(doc), OCI_MANIFEST)
    assert await repo.manifests.exists(result.digest)


async def test_index_children_must_exist_unless_disabled(driver: InMemoryDriver) -> None:
    child = image_manifest(CONFIG, [LAYER])
    index = dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_MANIFEST, child)]}
    )
    strict = Registry(driver).repository("a")
    with pytest.raises(ManifestBlobUnknown) as info:
        await strict.manifests.put(index, OCI_INDEX)
    assert info.value.detail == {"digest": str(sha256(child))}
    sparse = Registry(driver, validate_index_children=False).repository("a")
    result = await sparse.manifests.put(index, OCI_INDEX)
    assert (await strict.manifests.get(result.digest)).content == index


async def test_index_children_must_be_manifests_of_this_repository(registry: Registry) -> None:
    a, b = registry.repository("a"), registry.repository("b")
    for repo in (a, b):
        await upload(repo, CONFIG)
        await upload(repo, LAYER)
    child = image_manifest(CONFIG, [LAYER])
    await a.manifests.put(child, OCI_MANIFEST)
    await b.blobs.put(child)  # the same bytes, but as a blob, not a manifest revision
    index = dumps({"schemaVersion": 2, "manifests": [descriptor(OCI_MANIFEST, child)]})
    with pytest.raises(ManifestBlobUnknown):
        await b.manifests.put(index, OCI_INDEX)
    assert not await b.manifests.exists(sha256(index))
    assert (await a.manifests.put(index, OCI_INDEX)).digest == sha256(index)


async def test_artifact_manifest_with_empty_config(repo: Repository) -> None:
    await upload(repo, b"{}")
    await upload(repo, b"sbom")
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": descriptor(OCI_EMPTY, b"{}"),
        "layers": [descriptor("application/spdx+json", b"sbom")],
    }
    result = await repo.manifests.put(dumps(doc), OCI_MANIFEST)
    assert (await repo.manifests.get(result.digest)).media_type == OCI_MANIFEST


async def test_too_large(repo: Repository) -> None:
    content = b'{"schemaVersion":2,"manifests":[],"annotations":{"a":"' + b"x" * (4 << 20) + b'"}}'
    with pytest.raises(ManifestTooLarge):
        await repo.manifests.put(content, OCI_INDEX)


async def test_put_by_digest_reference(blobs_pushed: Repository) -> None:
    content = image_manifest(CONFIG, [LAYER])
    with pytest.raises(DigestInvalid):
        await blobs_pushed.manifests.put(content, OCI_MANIFEST, digest=sha256(b"other"))
    assert not await blobs_pushed.manifests.exists(sha256(content))
    result = await blobs_pushed.manifests.put(content, OCI_MANIFEST, digest=sha512(content))
    assert result.digest == sha512(content)
    assert (await blobs_pushed.manifests.get(sha512(content))).content == content


async def test_get_unknown(repo: Repository) -> None:
    with pytest.raises(ManifestUnknown) as info:
        await repo.manifests.get(sha256(b"x"))
    assert info.value.code == "MANIFEST_UNKNOWN"


async def test_delete(repo: Repository, driver: InMemoryDriver) -> None:
    content, result = await push_image(repo, "one", tag="v1")
    await repo.tags.tag("latest", result.digest)
    _, other = await push_image(repo, "two", tag="v2")
    await repo.manifests.delete(result.digest)
    with pytest.raises(ManifestUnknown):
        await repo.manifests.get(result.digest)
    assert await repo.tags.list() == ["v2"]
    assert await repo.tags.get("v2") == other.digest
    # the content stays for garbage collection
    assert await driver.get_content(paths.blob_data_path(result.digest)) == content
    with pytest.raises(ManifestUnknown):
        await repo.manifests.delete(result.digest)


async def test_delete_disabled_and_readonly(driver: InMemoryDriver) -> None:
    repo = Registry(driver).repository("a")
    content, result = await push_image(repo, "x", tag="v1")
    with pytest.raises(Unsupported):
        await Registry(driver, delete_enabled=False).repository("a").manifests.delete(result.digest)
    readonly = Registry(driver, readonly=True).repository("a")
    with pytest.raises(Unsupported, match="read-only"):
        await readonly.manifests.delete(result.digest)
    with pytest.raises(Unsupported, match="read-only"):
        await readonly.manifests.put(content, OCI_MANIFEST)
    assert (await readonly.manifests.get(result.digest)).content == content


async def test_a_push_by_tags_writes_data_then_links_in_one_index_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's data, its revision link, then each tag's index and current links,
    in that order (after a crash no name points at data that is not there, no current
    link at a digest its tag's index lacks), inside one index change, not one per tag."""
    recording = RecordingDriver(InMemoryDriver())
    backend = SqliteBackend(str(tmp_path / "index"))
    begun: list[str] = []
    begin = backend.begin

    async def counting_begin(name: str, token: str, now: float) -> bool:
        begun.append(name)
        return await begin(name, token, now)

    monkeypatch.setattr(backend, "begin", counting_begin)
    registry = Registry(recording, index=IndexService(backend))
    repo = registry.repository("lib/app")
    await upload(repo, CONFIG)
    await upload(repo, LAYER)
    content = image_manifest(CONFIG, [LAYER])
    recording.calls.clear()
    begun.clear()
    result = await repo.manifests.put(content, OCI_MANIFEST, tags=["v1", "latest"])
    digest = result.digest
    written = [path for call, path in recording.calls if call == "put_content"]
    assert written == [
        paths.blob_data_path(digest),
        paths.manifest_revision_link_path("lib/app", digest),
        paths.tag_index_link_path("lib/app", "v1", digest),
        paths.tag_current_link_path("lib/app", "v1"),
        paths.tag_index_link_path("lib/app", "latest", digest),
        paths.tag_current_link_path("lib/app", "latest"),
    ]
    assert begun == ["lib/app"]
    assert await repo.tags.list() == ["latest", "v1"]
    assert await repo.tags.get("v1") == digest
    await registry.close()
