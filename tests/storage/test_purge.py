"""Upload purging removes only sessions older than the cut-off."""

from __future__ import annotations

import pytest

from pyregistry.storage import BlobUploadUnknown, Registry, paths
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
