"""Round trips, reads, listings and walks of the swift driver against a real Swift."""

from __future__ import annotations

import asyncio
import os

import pytest

from storage_drivers import InvalidOffset, InvalidPath, PathNotFound, create_driver
from storage_drivers.swift import SwiftDriver
from tests.support.swift import SwiftDriverFactory, SwiftServer
from tests.swift.conftest import RawSwift


async def read_all(driver: SwiftDriver, path: str, offset: int = 0, length: int | None = None):
    return b"".join([chunk async for chunk in await driver.reader(path, offset, length)])


async def test_put_get_overwrite_and_layout(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(prefix="/reg")
    await driver.put_content("/docker/registry/v2/a/link", b"sha256:abc")
    assert await driver.get_content("/docker/registry/v2/a/link") == b"sha256:abc"
    await driver.put_content("/docker/registry/v2/a/link", b"sha256:def")
    assert await driver.get_content("/docker/registry/v2/a/link") == b"sha256:def"
    await driver.put_content("/empty", b"")
    assert await driver.get_content("/empty") == b""
    # distribution's layout: <prefix>/files<path>
    names = await raw_swift.names(driver.params.container)
    assert names == ["reg/files/docker/registry/v2/a/link", "reg/files/empty"]


async def test_missing_and_invalid_paths(swift_driver_factory: SwiftDriverFactory) -> None:
    driver = await swift_driver_factory()
    with pytest.raises(PathNotFound):
        await driver.get_content("/nope")
    with pytest.raises(PathNotFound):
        await driver.reader("/nope")
    with pytest.raises(PathNotFound):
        await driver.stat("/nope")
    with pytest.raises(PathNotFound):
        await driver.list("/nope")
    with pytest.raises(PathNotFound):
        await driver.delete("/nope")
    with pytest.raises(PathNotFound):
        await driver.move("/nope", "/other")
    for bad in ("", "a", "/a/", "/a//b", "/a/../b", "/a b", "/"):
        with pytest.raises(InvalidPath):
            await driver.put_content(bad, b"x")
    assert await driver.list("/") == []


async def test_ranged_reads(swift_driver_factory: SwiftDriverFactory) -> None:
    driver = await swift_driver_factory()
    data = bytes(range(256)) * 1000
    await driver.put_content("/blob", data)
    assert await read_all(driver, "/blob") == data
    assert await read_all(driver, "/blob", 1000) == data[1000:]
    assert await read_all(driver, "/blob", 1000, 500) == data[1000:1500]
    assert await read_all(driver, "/blob", len(data) - 3, 100) == data[-3:]
    assert await read_all(driver, "/blob", len(data)) == b""
    assert await read_all(driver, "/blob", 5, 0) == b""
    with pytest.raises(InvalidOffset):
        await driver.reader("/blob", len(data) + 1)
    with pytest.raises(InvalidOffset):
        await driver.reader("/blob", -1)
    await driver.put_content("/zero", b"")
    assert await read_all(driver, "/zero") == b""
    with pytest.raises(InvalidOffset):
        await driver.reader("/zero", 1)


async def test_reader_closed_without_reading_releases_connection(
    swift_driver_factory: SwiftDriverFactory,
) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/blob", b"x" * 100_000)
    for _ in range(80):  # more than the connection pool holds
        chunks = await driver.reader("/blob", 10)
        await chunks.aclose()  # type: ignore[attr-defined]
    assert await driver.get_content("/blob") == b"x" * 100_000


async def test_dropped_readers_release_their_connections(
    swift_driver_factory: SwiftDriverFactory,
) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/blob", os.urandom(1 << 20))

    async def open_and_drop(chunks_read: int) -> None:
        chunks = await driver.reader("/blob")
        for _ in range(chunks_read):
            assert len(await anext(chunks)) > 0
        # dropped here without aclose, as when a client disconnects

    async def many() -> None:
        for i in range(80):  # 70 unread: more than the connection pool holds
            await open_and_drop(1 if i % 8 == 0 else 0)
            await asyncio.sleep(0)
        assert len(await driver.get_content("/blob")) == 1 << 20

    await asyncio.wait_for(many(), 30)


async def test_stat_files_and_directories(swift_driver_factory: SwiftDriverFactory) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/a/b/c", b"12345")
    info = await driver.stat("/a/b/c")
    assert (info.path, info.size, info.is_dir) == ("/a/b/c", 5, False)
    assert info.mod_time.tzinfo is not None
    for directory in ("/a", "/a/b"):
        info = await driver.stat(directory)
        assert info.is_dir and info.path == directory
    with pytest.raises(InvalidPath):
        await driver.stat("/")
    with pytest.raises(PathNotFound):
        await driver.stat("/a/b/c/d")
    with pytest.raises(InvalidPath):
        await driver.stat("/a/b/")
    with pytest.raises(PathNotFound):
        await driver.stat("/a/bc")


NAMES = ["/r/a", "/r/a-c", "/r/a.d", "/r/a/x", "/r/a/y/z", "/r/b", "/r/b0/q", "/r/c/d/e"]


@pytest.mark.parametrize("page", [2, 10000])
async def test_list_and_walk_order_with_pagination(
    swift_driver_factory: SwiftDriverFactory, page: int
) -> None:
    driver = await swift_driver_factory(_list_limit=page)
    for name in NAMES[1:]:  # "/r/a" is a directory here
        await driver.put_content(name, name.encode())
    assert await driver.list("/") == ["/r"]
    children = ["/r/a", "/r/a-c", "/r/a.d", "/r/b", "/r/b0", "/r/c"]
    assert await driver.list("/r") == children
    assert await driver.list("/r/a") == ["/r/a/x", "/r/a/y"]
    walked = [(i.path, i.is_dir, i.size) async for i in driver.walk("/r")]
    expected = [
        ("/r/a", True, 0),
        ("/r/a/x", False, 6),
        ("/r/a/y", True, 0),
        ("/r/a/y/z", False, 8),
        ("/r/a-c", False, 6),
        ("/r/a.d", False, 6),
        ("/r/b", False, 4),
        ("/r/b0", True, 0),
        ("/r/b0/q", False, 7),
        ("/r/c", True, 0),
        ("/r/c/d", True, 0),
        ("/r/c/d/e", False, 8),
    ]
    assert walked == expected
    assert [i.path async for i in driver.walk("/")][0] == "/r"
    assert [i async for i in driver.walk("/r/b")] == []


async def test_many_children_paginate(swift_driver_factory: SwiftDriverFactory) -> None:
    driver = await swift_driver_factory(_list_limit=3)
    names = [f"/tags/t{i:02d}/current/link" for i in range(10)]
    for name in names:
        await driver.put_content(name, b"x")
    assert await driver.list("/tags") == [f"/tags/t{i:02d}" for i in range(10)]
    files = [i.path async for i in driver.walk("/tags") if not i.is_dir]
    assert files == names
    await driver.delete("/tags")
    with pytest.raises(PathNotFound):
        await driver.list("/tags")


async def test_move_plain_object_replaces_destination(
    swift_driver_factory: SwiftDriverFactory,
) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/src", b"new")
    await driver.put_content("/dst", b"old content")
    await driver.move("/src", "/dst")
    assert await driver.get_content("/dst") == b"new"
    with pytest.raises(PathNotFound):
        await driver.stat("/src")


async def test_delete_file_and_tree(swift_driver_factory: SwiftDriverFactory) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/t/a", b"1")
    await driver.put_content("/t/b/c", b"2")
    await driver.put_content("/tx", b"3")
    await driver.delete("/t/a")
    assert await driver.list("/t") == ["/t/b"]
    await driver.delete("/t")
    assert await driver.list("/") == ["/tx"]
    with pytest.raises(PathNotFound):
        await driver.delete("/t")


async def test_created_through_factory_with_string_options(swift_server: SwiftServer) -> None:
    driver = create_driver(
        "swift",
        {
            "authurl": swift_server.auth_url,
            "username": swift_server.user,
            "password": swift_server.key,
            "container": "pyregistry-from-env",
            "chunksize": "1048576",
            "insecureskipverify": "false",
            "authversion": "1",
            "tempurlmethods": "GET,HEAD",
            "endpointtype": "PUBLIC",
        },
    )
    try:
        assert isinstance(driver, SwiftDriver)
        assert driver.params.chunksize == 1 << 20
        assert driver.params.tempurlmethods == ("GET", "HEAD")
        await driver.put_content("/x", b"y")
        assert await driver.get_content("/x") == b"y"
    finally:
        await driver.close()
