"""Folders on S3: which servers keep listing an emptied one, and what a delete does about
it (``storage_drivers/s3/folders.py``, ``removal.prune``), counted as in
``test_s3_calls.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from storage_drivers.s3 import S3Driver
from tests.s3.test_s3_calls import count_calls
from tests.support.command import free_port
from tests.support.s3 import S3Server

Factory = Callable[..., Awaitable[S3Driver]]


async def test_where_emptied_folders_are_not_listed_deletes_prune_nothing(
    s3_moto_driver_factory: Factory, s3_driver_factory: Factory
) -> None:
    """moto (as AWS, MinIO) has no folders, only key prefixes: its driver learns so once
    and a delete ends with its DeleteObjects, no listing up the tree. SeaweedFS lists an
    emptied folder until its marker goes: there the driver prunes."""
    assert await (await s3_driver_factory()).emptied_folders.linger()
    driver = await s3_moto_driver_factory()
    await driver.put_content("/repo/_uploads/id/startedat", b"now")
    await driver.put_content("/repo/_layers/link", b"sha256:x")
    assert not await driver.emptied_folders.linger()
    calls = count_calls(driver)
    await driver.delete("/repo/_uploads/id")
    # the path's keys, the writers' state objects below it, one DeleteObjects
    assert calls == ["ListObjectsV2", "ListObjectsV2", "DeleteObjects"]
    assert await driver.list("/repo") == ["/repo/_layers"]
    calls.clear()
    await driver.move("/repo/_layers/link", "/repo/link")
    assert "ListObjectsV2" not in calls, calls
    assert await driver.list("/repo") == ["/repo/link"]


async def test_an_unanswered_folder_question_prunes_for_now(seaweedfs_server: S3Server) -> None:
    params = seaweedfs_server.driver_parameters("/gone")
    params["regionendpoint"] = f"http://127.0.0.1:{free_port()}"
    driver = S3Driver.from_parameters(params)
    assert await driver.emptied_folders.linger()  # the cautious answer
    assert driver.emptied_folders._question.known is None  # asked again next time
    await driver.close()


async def test_folders_emptied_by_move_and_delete_are_not_listed(
    s3_driver_factory: Factory,
) -> None:
    """SeaweedFS keeps emptied folders listed unless their marker is deleted: the driver
    deletes exactly the markers of the folders it left empty, however deep."""
    driver = await s3_driver_factory()
    await driver.put_content("/keep", b"1")
    await driver.put_content("/a/b/c/only", b"2")
    await driver.put_content("/a/x", b"3")
    await driver.move("/a/b/c/only", "/moved")
    assert await driver.list("/") == ["/a", "/keep", "/moved"]
    assert await driver.list("/a") == ["/a/x"]
    await driver.put_content("/t/u/v/w", b"4")
    await driver.delete("/t/u/v/w")
    assert await driver.list("/") == ["/a", "/keep", "/moved"]
    await driver.delete("/a/x")
    assert await driver.list("/") == ["/keep", "/moved"]
    assert [i.path async for i in driver.walk("/")] == ["/keep", "/moved"]


async def test_a_published_session_leaves_no_empty_folder_behind(
    s3_driver_factory: Factory,
) -> None:
    """``publish`` on SeaweedFS leaves no emptied folder listed (the session's, and the
    one holding it, ``_uploads``): a folder that lists nothing would be missed by the
    listing of a later delete of the tree above it, which would stay listed."""
    driver = await s3_driver_factory()
    await driver.put_content("/other/file", b"1")
    await driver.put_content("/repo/_uploads/id/startedat", b"now")
    writer = await driver.writer("/repo/_uploads/id/data")
    await writer.write(b"blob")
    await driver.publish(
        writer,
        "/repo/_uploads/id/data",
        "/blobs/b/data",
        {"/repo/_layers/b/link": b"b"},
        "/repo/_uploads/id",
    )
    assert await driver.list("/repo") == ["/repo/_layers"]
    await driver.delete("/repo")
    assert await driver.list("/") == ["/blobs", "/other"]
