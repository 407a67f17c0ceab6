"""Bad names, tags, digests and upload ids are refused before any driver call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pyregistry.storage import (
    BlobUploadUnknown,
    Digest,
    DigestInvalid,
    NameInvalid,
    Registry,
    RegistryError,
    TagInvalid,
)
from tests.storage.helpers import RecordingDriver, push_image, stream

GOOD = Digest("sha256", "a" * 64)
EVIL_DIGESTS = [
    Digest("sha256", "../../../etc/passwd"),
    Digest("sha256", "A" * 64),
    Digest("x", "0"),
]
EVIL_NAMES = [
    "../etc",
    "a/../../b",
    "a%2f..%2fb",
    "a%2Fb",
    "%2e%2e/x",
    "a/./b",
    "UPPER",
    "a//b",
    "",
    "a/b/",
    "/a",
    "a\\b",
]
EVIL_TAGS = ["../x", "..", "a/b", ".hidden", "", "x" * 200, "%2e%2e", "a%2Fb", "..%2F..%2Fx"]
EVIL_UPLOAD_IDS = ["../x", "a/b", "..", "", "a.b", "%2e%2e", "a%2Fb", "%2F..%2F", "a\x00"]
#: Pagination markers are only ever compared, never joined into a path.
ODD_MARKERS = ["../..", "a/../../etc", "..%2F..", "/etc/passwd", "a\x00b", "%2e%2e"]


async def _expect(
    recording: RecordingDriver, error: type[RegistryError], call: Callable[[], Awaitable[Any]]
) -> None:
    before = len(recording.calls)
    with pytest.raises(error):
        await call()
    assert recording.calls[before:] == []


@pytest.mark.parametrize("name", EVIL_NAMES)
async def test_bad_repository_names(recording: RecordingDriver, name: str) -> None:
    registry = Registry(recording)
    with pytest.raises(NameInvalid):
        registry.repository(name)
    assert recording.calls == []


@pytest.mark.parametrize("digest", EVIL_DIGESTS)
async def test_bad_digests(recording: RecordingDriver, digest: Digest) -> None:
    registry = Registry(recording)
    repo = registry.repository("lib/app")
    session = await repo.uploads.create()
    await session.append(stream(b"data"))
    recording.calls.clear()
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: registry.stat_blob(digest),
        lambda: registry.blob_store.delete(digest),
        lambda: repo.blobs.stat(digest),
        lambda: repo.blobs.open(digest),
        lambda: repo.blobs.delete(digest),
        lambda: repo.blobs.mount(digest, "lib/other"),
        lambda: repo.blobs.mount(digest, None),
        lambda: repo.blobs.redirect_url(digest),
        lambda: repo.manifests.get(digest),
        lambda: repo.manifests.exists(digest),
        lambda: repo.manifests.delete(digest),
        lambda: repo.manifests.put(b"{}", None, digest=digest),
        lambda: repo.tags.tag("v1", digest),
        lambda: repo.tags.lookup(digest),
        lambda: repo.referrers(digest),
        lambda: session.commit(digest),
    ]
    for call in calls:
        await _expect(recording, DigestInvalid, call)


@pytest.mark.parametrize("tag", EVIL_TAGS)
async def test_bad_tags(recording: RecordingDriver, tag: str) -> None:
    repo = Registry(recording).repository("lib/app")
    await _expect(recording, TagInvalid, lambda: repo.tags.get(tag))
    await _expect(recording, TagInvalid, lambda: repo.tags.tag(tag, GOOD))
    await _expect(recording, TagInvalid, lambda: repo.tags.untag(tag))


@pytest.mark.parametrize("upload_id", EVIL_UPLOAD_IDS)
async def test_bad_upload_ids(recording: RecordingDriver, upload_id: str) -> None:
    repo = Registry(recording).repository("lib/app")
    await _expect(recording, BlobUploadUnknown, lambda: repo.uploads.resume(upload_id))


async def test_mount_from_bad_repository_name_is_not_possible(recording: RecordingDriver) -> None:
    repo = Registry(recording).repository("lib/app")
    assert await repo.blobs.mount(GOOD, "../evil") is None
    assert recording.calls == []


@pytest.mark.parametrize("last", ODD_MARKERS)
async def test_pagination_markers_never_become_paths(recording: RecordingDriver, last: str) -> None:
    registry = Registry(recording)
    await push_image(registry.repository("lib/app"), "x", tag="v1")
    recording.calls.clear()
    assert await registry.catalog(last=last) == ["lib/app"]
    assert await registry.repository("lib/app").tags.list(last=last) == ["v1"]
    assert recording.calls, "the listings did read storage"
    assert not [call for call in recording.calls if last in call[1]]
    assert all(path.startswith("/docker/registry/v2/repositories") for _, path in recording.calls)
