"""Upload purging removes only sessions older than the cut-off."""

from __future__ import annotations

import pytest

from pyregistry.storage import BlobUploadUnknown, Registry, paths
from storage_drivers.errors import PathNotFound
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import sha256, stream


async def test_purge_uploads(registry: Registry, driver: InMemoryDriver) -> None:
    old = await registry.repository("a/b").uploads.create()
    await old.append(stream(b"stale"))
    broken = await registry.repository("c").uploads.create()
    fresh = await registry.repository("a/b").uploads.create()
    await fresh.append(stream(b"new"))
    await driver.put_content(paths.upload_started_at_path("a/b", old.id), b"2001-02-03T04:05:06Z")
    await driver.put_content(paths.upload_started_at_path("c", broken.id), b"garbage")

    assert await registry.purge_uploads(3600, dry_run=True) == 2
    assert (await registry.repository("a/b").uploads.resume(old.id)).id == old.id
    assert await Registry(driver, readonly=True).purge_uploads(3600) == 0

    assert await registry.purge_uploads(3600) == 2
    with pytest.raises(BlobUploadUnknown):
        await registry.repository("a/b").uploads.resume(old.id)
    with pytest.raises(BlobUploadUnknown):
        await registry.repository("c").uploads.resume(broken.id)
    assert not [p for p in driver._pending if old.id in p]
    desc = await fresh.commit(sha256(b"new"))
    assert desc.size == 3
    assert await registry.purge_uploads(0) == 0


async def test_session_without_startedat_is_as_old_as_its_files(
    registry: Registry, driver: InMemoryDriver
) -> None:
    """A session caught between its directory and its ``startedat`` (being created right now)
    is young, not infinitely old: purging it would fail that push."""
    upload_id = "0b7f8c1e-6a52-4d0e-9d3c-2f1b4a5c6d7e"
    await driver.put_content(paths.upload_data_path("a/b", upload_id), b"recent bytes")
    assert await registry.purge_uploads(3600) == 0
    assert await registry.purge_uploads(-3600) == 1  # a cut-off in the future: it is older
    with pytest.raises(PathNotFound):
        await driver.stat(paths.upload_data_path("a/b", upload_id))
