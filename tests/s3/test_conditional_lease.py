"""Conditional writes on S3 (SeaweedFS and moto honour them) and the upload-session lease
built on them: exact in one round trip, where a plain lease object waits its settle
time on every upload write."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pyregistry.storage import Digest, Registry, paths
from pyregistry.tasks.conditional_lease import ConditionalLease
from pyregistry.tasks.leases import LeaseFactory
from pyregistry.tasks.storage_lease import LeaseRecord, StorageLease
from pyregistry.tasks.upload_leases import UploadLeases
from storage_drivers.errors import PathNotFound
from storage_drivers.s3 import S3Driver
from tests.s3.test_s3_calls import count_calls
from tests.storage.helpers import stream
from tests.storage_drivers.conditional_checks import (
    check_conditional_writes,
    check_upload_leases_are_conditional,
)
from tests.support.command import free_port
from tests.support.s3 import S3Server

Factory = Callable[..., Awaitable[S3Driver]]
UPLOAD_ID = "0" * 8 + "-0000-4000-8000-" + "0" * 12


async def test_seaweedfs_honours_conditional_writes(s3_driver_factory: Factory) -> None:
    await check_conditional_writes(await s3_driver_factory(), '"0123"')


async def test_moto_honours_them_too(s3_moto_driver_factory: Factory) -> None:
    assert await (await s3_moto_driver_factory()).conditional_writes()


async def test_a_server_ignoring_the_conditions_is_not_trusted(s3_driver_factory: Factory) -> None:
    """As an older S3 look-alike would: the headers never reach SeaweedFS, so every
    write succeeds; the probe sees that and leases keep their plain protocol."""
    driver = await s3_driver_factory()

    def strip(request: Any, **_: Any) -> None:
        for header in ("If-None-Match", "If-Match"):
            if header in request.headers:
                del request.headers[header]

    driver._backend._make_client().meta.events.register("before-sign.s3", strip)
    assert not await driver.conditional_writes()
    lease = await LeaseFactory(driver).upload_lease("a", UPLOAD_ID)
    assert isinstance(lease, StorageLease)


async def test_an_unreachable_server_is_a_no_for_now(seaweedfs_server: S3Server) -> None:
    params = seaweedfs_server.driver_parameters("/gone")
    params["regionendpoint"] = f"http://127.0.0.1:{free_port()}"
    driver = S3Driver.from_parameters(params)
    assert not await driver.conditional_writes()
    assert driver._conditional._question.known is None, "asked again on the next upload write"
    await driver.close()


async def test_the_lease_is_exact_and_takes_one_call(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory()
    await driver.conditional_writes()
    first = ConditionalLease("l", driver, "/up/lock", ttl=10)
    second = ConditionalLease("l", driver, "/up/lock", ttl=10)
    calls = count_calls(driver)
    assert await first.acquire()
    assert calls == ["PutObject"]
    assert not await second.acquire()
    assert await first.renew()
    calls.clear()
    await first.release()
    assert calls == ["DeleteObject"]
    assert await second.acquire()
    assert not await first.acquire()
    await second.release()


async def test_an_expired_holding_is_taken_over_and_its_holder_told(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    await driver.conditional_writes()
    dead = ConditionalLease("l", driver, "/up/lock", ttl=0.2)
    assert await dead.acquire()
    await asyncio.sleep(0.3)  # it died without renewing
    rival = ConditionalLease("l", driver, "/up/lock", ttl=10)
    assert await rival.acquire()
    assert rival.fence == 2
    assert not await dead.renew(), "its version was replaced"
    await dead.release()  # leaves the rival's record alone
    content, _ = await driver.get_content_version("/up/lock")
    record = LeaseRecord.decode(content)
    assert record is not None and record.expires > time.time()
    await rival.release()


async def test_a_plain_storage_lease_record_is_respected(s3_driver_factory: Factory) -> None:
    """Instances of an older version write the same record unconditionally."""
    driver = await s3_driver_factory()
    await driver.conditional_writes()
    plain = StorageLease("l", driver, "/up/lock", ttl=10, settle=0.05)
    assert await plain.acquire()
    assert not await ConditionalLease("l", driver, "/up/lock", ttl=10).acquire()
    await plain.release()  # marks the record expired
    assert await ConditionalLease("l", driver, "/up/lock", ttl=10).acquire()


async def test_upload_writes_on_s3_hold_the_session_without_waiting(
    s3_driver_factory: Factory,
) -> None:
    driver = await s3_driver_factory()
    await check_upload_leases_are_conditional(driver)


async def test_a_finished_session_takes_its_lease_record_with_it(
    s3_driver_factory: Factory,
) -> None:
    """The record lives in the session's folder: the commit (or cancel) that removes the
    folder removes it, and the lease is not given back by one more request; a write that
    leaves the session in place does give it back."""
    driver = await s3_driver_factory()
    registry = Registry(driver, upload_locks=UploadLeases(LeaseFactory(driver)))
    uploads = registry.repository("team/app").uploads
    session = await uploads.create()
    calls = count_calls(driver)
    await session.append(stream(b"part"), offset=0)
    await asyncio.sleep(0.2)  # the release runs as a task of its own
    assert calls.count("DeleteObject") == 1, calls  # given back: the session goes on
    calls.clear()
    await session.commit(Digest("sha256", hashlib.sha256(b"part").hexdigest()), stream(b""))
    await asyncio.sleep(0.2)
    assert "DeleteObject" not in calls, calls
    with pytest.raises(PathNotFound):  # nothing of the session is left, the lock neither
        await driver.stat(paths.upload_path("team/app", session.id))
    cancelled = await uploads.create()
    await cancelled.append(stream(b"x"), offset=0)
    await asyncio.sleep(0.2)
    calls.clear()
    await cancelled.cancel()
    await asyncio.sleep(0.2)
    assert "DeleteObject" not in calls, calls
    again = await uploads.create()  # the next session takes its own lease at once
    await again.append(stream(b"y"), offset=0)
    await registry.close()
