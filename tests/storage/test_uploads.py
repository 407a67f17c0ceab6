"""Upload sessions: chunks, offsets, digests, resume across processes, cancel."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pyregistry.storage import (
    BlobUnknown,
    BlobUploadUnknown,
    DigestInvalid,
    RangeInvalid,
    Registry,
    Repository,
    Unsupported,
    paths,
)
from pyregistry.storage.started_at import parse_started_at
from storage_drivers import create_driver
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver, sha256, sha512, stream


async def _read(repo: Repository, data: bytes) -> bytes:
    return b"".join([c async for c in await repo.blobs.open(sha256(data))])


async def test_chunked_upload(any_registry: Registry) -> None:
    repo = any_registry.repository("lib/app")
    session = await repo.uploads.create()
    assert await session.size() == 0
    assert session.repository == "lib/app"
    assert await session.append(stream(b"hello ", b"")) == 6
    assert await session.append(stream(b"wor"), offset=6) == 9
    desc = await session.commit(sha256(b"hello world"), stream(b"ld"), offset=9)
    assert desc.size == 11 and desc.digest == sha256(b"hello world")
    assert await repo.blobs.stat(desc.digest) == desc
    assert await _read(repo, b"hello world") == b"hello world"
    with pytest.raises(BlobUploadUnknown):
        await repo.uploads.resume(session.id)


async def test_session_on_disk(driver: InMemoryDriver, repo: Repository) -> None:
    session = await repo.uploads.create()
    raw = await driver.get_content(paths.upload_started_at_path(repo.name, session.id))
    started = parse_started_at(raw.decode())
    assert started is not None and abs(started - datetime.now(UTC)) < timedelta(seconds=5)
    assert raw.decode().endswith("Z") and "T" in raw.decode()
    assert session.started_at == started
    desc = await session.commit(sha256(b""))
    assert desc.size == 0
    assert await driver.get_content(paths.blob_data_path(desc.digest)) == b""
    with pytest.raises(Exception):  # noqa: B017, PT011 - the whole session directory is gone
        await driver.list(paths.upload_path(repo.name, session.id))


async def test_sha512_commit(any_registry: Registry) -> None:
    repo = any_registry.repository("lib/app")
    session = await repo.uploads.create()
    await session.append(stream(b"long hash"))
    desc = await session.commit(sha512(b"long hash"))
    assert desc.digest.algorithm == "sha512"
    assert await repo.blobs.stat(sha512(b"long hash")) == desc


async def test_wrong_offset_writes_nothing(repo: Repository) -> None:
    session = await repo.uploads.create()
    await session.append(stream(b"abc"))
    with pytest.raises(RangeInvalid) as info:
        await session.append(stream(b"zzz"), offset=2)
    assert info.value.code == "BLOB_UPLOAD_INVALID"
    with pytest.raises(RangeInvalid):
        await session.append(stream(b"zzz"), offset=4)
    with pytest.raises(RangeInvalid):
        await session.commit(sha256(b"abczzz"), stream(b"zzz"), offset=0)
    with pytest.raises(RangeInvalid):
        await session.commit(sha256(b"abc"), offset=1)
    assert await session.size() == 3
    assert (await session.commit(sha256(b"abc"), offset=3)).size == 3


async def test_digest_mismatch_leaves_nothing(driver: InMemoryDriver, repo: Repository) -> None:
    session = await repo.uploads.create()
    await session.append(stream(b"actual content"))
    claimed = sha256(b"something else")
    with pytest.raises(DigestInvalid) as info:
        await session.commit(claimed)
    assert info.value.code == "DIGEST_INVALID"
    with pytest.raises(BlobUnknown):
        await repo.blobs.stat(sha256(b"actual content"))
    with pytest.raises(BlobUnknown):
        await repo.blobs.stat(claimed)
    with pytest.raises(BlobUploadUnknown):
        await repo.uploads.resume(session.id)
    assert not [p for p in driver._files if "/blobs/" in p or "/_uploads/" in p]
    assert not driver._pending


async def test_existing_blob_skips_move(registry: Registry, driver: InMemoryDriver) -> None:
    a, b = registry.repository("a"), registry.repository("b")
    first = await a.blobs.put(b"same")
    session = await b.uploads.create()
    await session.append(stream(b"same"))
    recording = RecordingDriver(driver)
    again = Registry(recording).repository("b")
    resumed = await again.uploads.resume(session.id)
    assert await resumed.commit(first.digest) == first
    assert not [c for c in recording.calls if c[0] == "move"]
    assert await b.blobs.stat(first.digest) == first
    assert not [p for p in driver._files if "/_uploads/" in p]


async def test_cancel(repo: Repository, driver: InMemoryDriver) -> None:
    session = await repo.uploads.create()
    await session.append(stream(b"partial"))
    await session.cancel()
    with pytest.raises(BlobUploadUnknown):
        await repo.uploads.resume(session.id)
    with pytest.raises(BlobUploadUnknown):
        await session.cancel()
    with pytest.raises(BlobUploadUnknown):
        await session.append(stream(b"more"))
    with pytest.raises(BlobUploadUnknown):
        await session.size()
    with pytest.raises(BlobUploadUnknown):
        await session.commit(sha256(b"partial"))
    assert not driver._pending and not [p for p in driver._files if "_uploads" in p]


async def test_resume_unknown(repo: Repository) -> None:
    with pytest.raises(BlobUploadUnknown) as info:
        await repo.uploads.resume("6d5e5b0c-1111-4444-8888-000000000000")
    assert info.value.code == "BLOB_UPLOAD_UNKNOWN"


async def test_readonly_refuses_uploads(driver: InMemoryDriver) -> None:
    session = await Registry(driver).repository("a").uploads.create()
    repo = Registry(driver, readonly=True).repository("a")
    with pytest.raises(Unsupported, match="read-only"):
        await repo.uploads.create()
    resumed = await repo.uploads.resume(session.id)
    assert await resumed.size() == 0
    for call in (
        lambda: resumed.append(stream(b"x")),
        lambda: resumed.commit(sha256(b"")),
        lambda: resumed.cancel(),
    ):
        with pytest.raises(Unsupported):
            await call()


async def test_resume_in_another_process_rehashes(tmp_path: Path) -> None:
    """Two Registry instances over one root share nothing but storage, as two processes
    would (``test_uploads_processes.py`` does it with real ones)."""
    root = str(tmp_path / "root")
    one = Registry(create_driver("filesystem", {"rootdirectory": root}))
    two = Registry(create_driver("filesystem", {"rootdirectory": root}))
    try:
        data = os.urandom(300_000)
        s1 = await one.repository("lib/app").uploads.create()
        assert await s1.append(stream(data[:100_000])) == 100_000
        s2 = await two.repository("lib/app").uploads.resume(s1.id)
        assert s2.started_at == s1.started_at
        assert await s2.size() == 100_000
        assert await s2.append(stream(data[100_000:250_000]), offset=100_000) == 250_000
        # back in the first process: its running hash saw only 100 000 bytes
        assert await s1.size() == 250_000
        with pytest.raises(RangeInvalid):
            await s1.append(stream(b"x"), offset=100_000)
        desc = await s1.commit(sha256(data), stream(data[250_000:]), offset=250_000)
        assert desc.size == len(data)
        got = await two.repository("lib/app").blobs.open(desc.digest)
        assert b"".join([c async for c in got]) == data
    finally:
        await one.close()
        await two.close()


async def test_commit_in_another_process_rehashes(tmp_path: Path) -> None:
    root = str(tmp_path / "root")
    one = Registry(create_driver("filesystem", {"rootdirectory": root}))
    two = Registry(create_driver("filesystem", {"rootdirectory": root}))
    try:
        s1 = await one.repository("a").uploads.create()
        await s1.append(stream(b"abc" * 1000))
        s2 = await two.repository("a").uploads.resume(s1.id)
        with pytest.raises(DigestInvalid):
            await s2.commit(sha256(b"wrong"))
        with pytest.raises(BlobUploadUnknown):
            await s1.append(stream(b"x"))
        s3 = await one.repository("a").uploads.create()
        await s3.append(stream(b"abc" * 1000))
        s4 = await two.repository("a").uploads.resume(s3.id)
        desc = await s4.commit(sha256(b"abc" * 1000))
        assert await one.repository("a").blobs.stat(desc.digest) == desc
        assert not (Path(root) / "docker/registry/v2/repositories/a/_uploads" / s3.id).exists()
        blob = (
            Path(root) / "docker/registry/v2/blobs/sha256" / desc.digest.hex[:2] / desc.digest.hex
        )
        assert (blob / "data").read_bytes() == b"abc" * 1000
    finally:
        await one.close()
        await two.close()


async def test_failed_commit_on_filesystem_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    try:
        session = await registry.repository("a").uploads.create()
        await session.append(stream(b"content"))
        with pytest.raises(DigestInvalid):
            await session.commit(sha256(b"other"))
        files = [p for p in root.rglob("*") if p.is_file()]
        assert files == []
        assert not (root / "docker/registry/v2/blobs").exists() or not any(
            (root / "docker/registry/v2/blobs").rglob("data")
        )
    finally:
        await registry.close()


async def test_concurrent_uploads(any_registry: Registry) -> None:
    repo = any_registry.repository("lib/app")
    blobs = [os.urandom(50_000 + i) for i in range(8)]

    async def push(data: bytes) -> None:
        session = await repo.uploads.create()
        for i in range(0, len(data), 10_000):
            await session.append(stream(data[i : i + 10_000]), offset=i)
            await asyncio.sleep(0)
        await session.commit(sha256(data))

    await asyncio.gather(*(push(b) for b in blobs))
    for data in blobs:
        assert await _read(repo, data) == data


async def test_a_second_concurrent_append_to_one_session_is_refused(
    repo: Repository, driver: InMemoryDriver
) -> None:
    session = await repo.uploads.create()

    async def slow(part: bytes) -> AsyncIterator[bytes]:
        for byte in part:
            await asyncio.sleep(0)
            yield bytes([byte])

    results = await asyncio.gather(
        session.append(slow(b"aaaa")), session.append(slow(b"bbbb")), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["UploadSessionBusy", "int"]
    assert all(isinstance(r, RangeInvalid) for r in results if not isinstance(r, int))
    assert await session.size() == 4
    pending = bytes(driver._pending[paths.upload_data_path(repo.name, session.id)])
    assert pending in (b"aaaa", b"bbbb")
    assert (await session.commit(sha256(pending))).size == 4


async def test_commit_reuses_running_hash_and_rereads_only_when_needed() -> None:
    recording = RecordingDriver(InMemoryDriver())
    repo = Registry(recording).repository("a")
    session = await repo.uploads.create()
    await session.append(stream(b"part one, "))
    await session.append(stream(b"part two"))
    recording.calls.clear()
    await session.commit(sha256(b"part one, part two"))
    assert not [c for c in recording.calls if c[0] == "reader"]

    session = await repo.uploads.create()
    await session.append(stream(b"other algorithm"))
    recording.calls.clear()
    await session.commit(sha512(b"other algorithm"))
    assert [c[0] for c in recording.calls].count("reader") == 1


async def test_commit_tells_when_the_digest_is_verified(any_registry: Registry) -> None:
    # A mirror lets its client's last bytes go at on_verified (the copy is synced and
    # moved afterwards). Called on a first commit and on one of a blob already stored
    # (the slower path); never on a mismatch.
    repo = any_registry.repository("lib/app")
    calls: list[str] = []
    for _ in range(2):
        session = await repo.uploads.create()
        await session.commit(
            sha256(b"content"), stream(b"con", b"tent"), on_verified=lambda: calls.append("ok")
        )
    assert calls == ["ok", "ok"]
    wrong = await repo.uploads.create()
    with pytest.raises(DigestInvalid):
        await wrong.commit(
            sha256(b"other"), stream(b"content"), on_verified=lambda: calls.append("bad")
        )
    assert calls == ["ok", "ok"]
