"""Segmented writers: visibility, resume across driver instances, cancel, move, delete."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from storage_drivers import PathNotFound, WriterClosed
from storage_drivers.swift import SwiftDriver
from storage_drivers.swift import writer as swift_writer
from tests.support.swift import SwiftDriverFactory
from tests.swift.conftest import RawSwift

MIB = 1 << 20


async def read_all(driver: SwiftDriver, path: str, offset: int = 0) -> bytes:
    return b"".join([chunk async for chunk in await driver.reader(path, offset)])


async def segments(raw: RawSwift, driver: SwiftDriver) -> list[str]:
    return await raw.names(driver.params.container, "segments/")


async def test_segmented_write_invisible_until_commit(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(chunksize=MIB)
    data = os.urandom(3 * MIB + 12345)
    writer = await driver.writer("/up/data")
    for start in range(0, len(data), 300_000):
        piece = data[start : start + 300_000]
        assert await writer.write(piece) == len(piece)
    assert writer.size == len(data)
    with pytest.raises(PathNotFound):
        await driver.stat("/up/data")
    with pytest.raises(PathNotFound):
        await driver.list("/up")
    await writer.commit()
    names = await segments(raw_swift, driver)
    assert len(names) == 4 and names[0].endswith("/0000000000000001"), names
    info = await driver.stat("/up/data")
    assert info.size == len(data) and not info.is_dir
    assert await read_all(driver, "/up/data") == data
    assert await read_all(driver, "/up/data", MIB - 10) == data[MIB - 10 :]
    walked = [(i.path, i.size) async for i in driver.walk("/up")]
    assert walked == [("/up/data", len(data))]
    # the writer's state object is gone and never listed
    assert await raw_swift.names(driver.params.container, "writers/") == []
    with pytest.raises(WriterClosed):
        await writer.write(b"more")


async def test_close_and_resume_from_another_driver(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    first = await swift_driver_factory(chunksize=MIB)
    container = first.params.container
    part1, part2, part3 = os.urandom(MIB + 5), os.urandom(700), os.urandom(2 * MIB)
    writer = await first.writer("/uploads/u1/data")
    await writer.write(part1)
    await writer.close()
    with pytest.raises(PathNotFound):
        await first.stat("/uploads/u1/data")

    second = await swift_driver_factory(container=container, chunksize=MIB)
    writer = await second.writer("/uploads/u1/data", append=True)
    assert writer.size == len(part1)
    await writer.write(part2)
    await writer.close()

    third = await swift_driver_factory(container=container, chunksize=MIB)
    writer = await third.writer("/uploads/u1/data", append=True)
    assert writer.size == len(part1) + len(part2)
    await writer.write(part3)
    await writer.commit()
    assert await read_all(first, "/uploads/u1/data") == part1 + part2 + part3
    # short segments at each close are fine: 1 MiB + 5 bytes, 700 bytes, 2 MiB
    assert len(await segments(raw_swift, first)) == 5
    with pytest.raises(PathNotFound):
        await third.writer("/uploads/u1/data", append=True)


async def test_append_without_upload_and_fresh_writer_discards(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory()
    with pytest.raises(PathNotFound):
        await driver.writer("/nothing", append=True)
    writer = await driver.writer("/p")
    await writer.write(b"stale data")
    await writer.close()
    stale = await segments(raw_swift, driver)
    assert len(stale) == 1
    writer = await driver.writer("/p")  # starts afresh
    assert writer.size == 0
    await writer.write(b"fresh")
    await writer.commit()
    assert await driver.get_content("/p") == b"fresh"
    remaining = await segments(raw_swift, driver)
    assert len(remaining) == 1 and remaining != stale


async def test_writer_dropped_without_close_ends_its_upload(
    swift_driver_factory: SwiftDriverFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(swift_writer, "IDLE_TIMEOUT", 0.3)
    driver = await swift_driver_factory()
    writer = await driver.writer("/abandoned")
    await writer.write(b"half a segment")
    assert len(swift_writer._running) == 1
    del writer  # the request handler died without closing its writer
    for _ in range(100):
        if not swift_writer._running:
            break
        await asyncio.sleep(0.05)
    assert not swift_writer._running
    resumed = await driver.writer("/abandoned", append=True)
    assert resumed.size == 0  # the unfinished segment was never stored
    await resumed.write(b"again")
    await resumed.commit()
    assert await driver.get_content("/abandoned") == b"again"


async def test_cancel_removes_segments_and_keeps_old_content(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(chunksize=MIB)
    await driver.put_content("/c", b"old")
    writer = await driver.writer("/c")
    await writer.write(os.urandom(2 * MIB + 1))
    assert len(await segments(raw_swift, driver)) == 2
    await writer.cancel()
    assert await segments(raw_swift, driver) == []
    assert await raw_swift.names(driver.params.container, "writers/") == []
    assert await driver.get_content("/c") == b"old"
    with pytest.raises(PathNotFound):
        await driver.writer("/c", append=True)
    with pytest.raises(WriterClosed):
        await writer.commit()


async def test_empty_commit_and_overwrite_cleans_old_segments(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(chunksize=MIB)
    writer = await driver.writer("/e")
    await writer.commit()
    assert await driver.get_content("/e") == b""
    assert (await driver.stat("/e")).size == 0

    writer = await driver.writer("/o")
    await writer.write(os.urandom(MIB + 1))
    await writer.commit()
    first = await segments(raw_swift, driver)
    writer = await driver.writer("/o")
    await writer.write(b"second version")
    await writer.commit()
    second = await segments(raw_swift, driver)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    assert await driver.get_content("/o") == b"second version"
    await driver.put_content("/o", b"small")  # a plain object replaces the manifest
    assert await segments(raw_swift, driver) == []
    assert await driver.get_content("/o") == b"small"


async def test_move_of_segmented_object_moves_the_manifest(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(chunksize=MIB)
    data = os.urandom(2 * MIB + 99)
    writer = await driver.writer("/_uploads/u/data")
    await writer.write(data)
    await writer.commit()
    before = await segments(raw_swift, driver)
    await driver.put_content("/blobs/ab/data", b"to be replaced")
    await driver.move("/_uploads/u/data", "/blobs/ab/data")
    assert await segments(raw_swift, driver) == before  # no data copied
    head = await raw_swift.head(
        driver.params.container, "files/blobs/ab/data", **{"multipart-manifest": "get"}
    )
    assert head.headers["X-Object-Manifest"].startswith(driver.params.container + "/segments/")
    assert await read_all(driver, "/blobs/ab/data") == data
    with pytest.raises(PathNotFound):
        await driver.stat("/_uploads/u/data")
    # moving another large object over it drops the replaced object's segments
    writer = await driver.writer("/_uploads/v/data")
    await writer.write(b"v" * 10)
    await writer.commit()
    await driver.move("/_uploads/v/data", "/blobs/ab/data")
    assert len(await segments(raw_swift, driver)) == 1
    assert await driver.get_content("/blobs/ab/data") == b"v" * 10


async def test_recursive_delete_removes_segments_and_pending_writers(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(chunksize=MIB, _list_limit=2)
    for name in ("/repo/a/data", "/repo/b/c/data"):
        writer = await driver.writer(name)
        await writer.write(os.urandom(MIB + 10))
        await writer.commit()
    await driver.put_content("/repo/link", b"x")
    await driver.put_content("/other", b"keep")
    pending = await driver.writer("/repo/_uploads/u/data")
    await pending.write(b"uncommitted")
    await pending.close()
    assert len(await segments(raw_swift, driver)) == 5
    await driver.delete("/repo")
    assert await segments(raw_swift, driver) == []
    assert await raw_swift.names(driver.params.container, "writers/") == []
    assert await driver.list("/") == ["/other"]
    with pytest.raises(PathNotFound):
        await driver.writer("/repo/_uploads/u/data", append=True)
    # an upload directory holding only an uncommitted writer can be purged too
    pending = await driver.writer("/up/u2/data")
    await pending.write(b"abc")
    await pending.close()
    await driver.delete("/up/u2")
    assert await segments(raw_swift, driver) == []


async def test_delete_without_the_bulk_middleware(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(chunksize=MIB)
    await driver.list("/")
    assert driver._conn.bulk_delete_max > 0  # the test cluster has it: pretend it has not
    driver._conn.bulk_delete_max = 0
    for i in range(20):
        await driver.put_content(f"/many/f{i}", b"x")
    writer = await driver.writer("/many/big")
    await writer.write(os.urandom(2 * MIB + 1))
    await writer.commit()
    await driver.delete("/many")
    assert await raw_swift.names(driver.params.container) == []


async def test_reads_distribution_written_large_objects(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    """distribution writes manifests as "<container>/<segments dir>" with no slash."""
    driver = await swift_driver_factory()
    container = driver.params.container
    await driver.list("/")  # creates the container
    seg_dir = "segments/0ab/" + "c" * 37
    parts = [os.urandom(1000), os.urandom(2000)]
    for number, part in enumerate(parts, 1):
        await raw_swift.put(container, f"{seg_dir}/{number:016d}", part)
    manifest = {"X-Object-Manifest": f"{container}/{seg_dir}"}
    await raw_swift.put(container, "files/d/data", headers=manifest)
    assert (await driver.stat("/d/data")).size == 3000
    assert await read_all(driver, "/d/data", 500) == b"".join(parts)[500:]
    await driver.move("/d/data", "/e/data")
    assert await read_all(driver, "/e/data") == b"".join(parts)
    await driver.delete("/e")
    assert await segments(raw_swift, driver) == []


async def test_bounded_memory_on_a_64_mib_stream(
    swift_driver_factory: SwiftDriverFactory,
) -> None:
    import tracemalloc

    driver = await swift_driver_factory(chunksize=32 * MIB)
    block = os.urandom(MIB)
    blocks = 64
    expected = hashlib.sha256()
    for _ in range(blocks):
        expected.update(block)
    tracemalloc.start()
    try:
        writer = await driver.writer("/big/data")
        for _ in range(blocks):
            await writer.write(block)
        await writer.commit()
        digest = hashlib.sha256()
        total = 0
        async for chunk in await driver.reader("/big/data"):
            digest.update(chunk)
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == blocks * MIB
    assert digest.hexdigest() == expected.hexdigest()
    # far below one segment: segments are streamed, never buffered whole
    assert peak < 8 * MIB, f"peak traced memory {peak / MIB:.1f} MiB for a 64 MiB blob"
