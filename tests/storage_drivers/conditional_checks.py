"""What a driver's conditional writes must do, for each driver that offers them."""

from __future__ import annotations

import time

import pytest

from pyregistry.storage import Registry
from pyregistry.tasks.conditional_lease import ConditionalLease
from pyregistry.tasks.leases import LeaseFactory
from pyregistry.tasks.upload_leases import UploadLeases
from storage_drivers.base import StorageDriver
from storage_drivers.errors import ConditionFailed, PathNotFound
from tests.storage.helpers import stream
from tests.tasks.test_upload_leases import held_while_writing


async def check_conditional_writes(driver: StorageDriver, wrong_version: str) -> None:
    """Create only if absent, replace and delete only at the version read; the driver's
    probe object gone afterwards. ``driver`` is on an empty root."""
    assert await driver.conditional_writes()
    first = await driver.put_content_if("/lock", b"one", None)
    with pytest.raises(ConditionFailed):
        await driver.put_content_if("/lock", b"two", None)
    with pytest.raises(ConditionFailed):
        await driver.put_content_if("/lock", b"two", wrong_version)
    second = await driver.put_content_if("/lock", b"two", first)
    assert await driver.get_content_version("/lock") == (b"two", second)
    with pytest.raises(ConditionFailed):
        await driver.delete_if("/lock", first)
    await driver.delete_if("/lock", second)
    with pytest.raises(PathNotFound):
        await driver.get_content("/lock")
    assert await driver.list("/") == [], "the probe object is gone"


async def check_upload_leases_are_conditional(driver: StorageDriver) -> None:
    """Upload writes without Redis hold their session with a conditional lease: a second
    writer is refused, and no write waits a plain lease's settle time."""
    leases = LeaseFactory(driver)
    registry = Registry(driver, upload_locks=UploadLeases(leases))

    async def conditional(upload_id: str) -> None:
        assert isinstance(await leases.upload_lease("team/app", upload_id), ConditionalLease)

    await held_while_writing(registry, conditional)
    session = await registry.repository("team/app").uploads.create()
    started = time.monotonic()
    for offset in range(5):
        await session.append(stream(b"x"), offset=offset)
    took = time.monotonic() - started
    # five writes under a plain lease object wait its 0.25 s settle time each
    assert took < 5 * 0.25, took
    await registry.close()
