"""The s3 driver against SeaweedFS (signatures checked): objects, listings, move, delete."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from storage_drivers.errors import InvalidOffset, InvalidPath, PathNotFound
from storage_drivers.s3 import S3Driver
from tests.support.s3 import S3Server

Factory = Callable[..., Awaitable[S3Driver]]
MiB = 1024 * 1024


async def _collect(
    driver: S3Driver, path: str, offset: int = 0, length: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in await driver.reader(path, offset, length)])


async def test_put_get_stat_reader_round_trip(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory()
    data = os.urandom(3 * MiB + 17)
    await driver.put_content("/a/b/file.bin", data)
    assert await driver.get_content("/a/b/file.bin") == data
    info = await driver.stat("/a/b/file.bin")
    assert (info.size, info.is_dir, info.path) == (len(data), False, "/a/b/file.bin")
    assert (await driver.stat("/a")).is_dir
    assert await _collect(driver, "/a/b/file.bin") == data
    assert await _collect(driver, "/a/b/file.bin", 1000, 5000) == data[1000:6000]
    assert await _collect(driver, "/a/b/file.bin", len(data) - 3, 100) == data[-3:]
    assert await _collect(driver, "/a/b/file.bin", len(data)) == b""
    chunks = [len(c) async for c in await driver.reader("/a/b/file.bin")]
    assert max(chunks) <= MiB  # streamed in bounded chunks
    with pytest.raises(InvalidOffset):
        await driver.reader("/a/b/file.bin", len(data) + 1)
    with pytest.raises(InvalidOffset):
        await driver.reader("/a/b/file.bin", -1)
    with pytest.raises(PathNotFound):
        await driver.reader("/a/b/missing")
    with pytest.raises(PathNotFound):
        await driver.get_content("/a/b")  # a directory is not a file
    with pytest.raises(PathNotFound):
        await driver.stat("/nothing/here")
    with pytest.raises(InvalidPath):
        await driver.get_content("/a/../b")
    await driver.put_content("/a/b/file.bin", b"new")
    assert await driver.get_content("/a/b/file.bin") == b"new"
    await driver.put_content("/empty", b"")
    assert await driver.get_content("/empty") == b""
    assert await _collect(driver, "/empty") == b""


async def test_empty_put_does_not_wedge_the_next_request(s3_driver_factory: Factory) -> None:
    """An empty PUT with ``Expect: 100-continue`` desynchronised SeaweedFS's kept-alive
    connection: the next request on it hung for the whole read timeout (120 s)."""
    driver = await s3_driver_factory()
    for i in range(4):
        await asyncio.wait_for(driver.put_content(f"/e{i}", b""), 10)
        await asyncio.wait_for(driver.put_content(f"/f{i}", b"after"), 10)
    writer = await driver.writer("/w")
    await asyncio.wait_for(writer.commit(), 10)  # an empty commit is an empty PUT too
    assert await asyncio.wait_for(driver.get_content("/f3"), 10) == b"after"


async def test_list_and_walk_order_with_dash_and_dot_siblings(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory()
    files = ["/r/b/x", "/r/b-c/y", "/r/b.c", "/r/b0/z", "/r/a", "/r/b/sub/deep", "/r/c_d"]
    await asyncio.gather(*(driver.put_content(p, p.encode()) for p in files))
    assert await driver.list("/r") == ["/r/a", "/r/b", "/r/b-c", "/r/b.c", "/r/b0", "/r/c_d"]
    assert await driver.list("/") == ["/r"]
    walked = [(i.path, i.is_dir) async for i in driver.walk("/r")]
    assert walked == [
        ("/r/a", False),
        ("/r/b", True),
        ("/r/b/sub", True),
        ("/r/b/sub/deep", False),
        ("/r/b/x", False),
        ("/r/b-c", True),
        ("/r/b-c/y", False),
        ("/r/b.c", False),
        ("/r/b0", True),
        ("/r/b0/z", False),
        ("/r/c_d", False),
    ]
    sizes = {i.path: i.size async for i in driver.walk("/")}
    assert sizes["/r/b-c/y"] == len(b"/r/b-c/y")
    assert [i async for i in driver.walk("/r/a")] == []  # a file has no descendants
    with pytest.raises(PathNotFound):
        await driver.list("/r/nope")
    with pytest.raises(PathNotFound):
        _ = [i async for i in driver.walk("/r/nope")]


async def test_list_walk_and_delete_paginate(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory()
    driver._list_max = 7
    driver._delete_max = 6
    paths = [f"/p/d{i % 3}/f{i:03d}" for i in range(40)] + [f"/p/top{i}" for i in range(9)]
    await asyncio.gather(*(driver.put_content(p, b"x") for p in paths))
    assert await driver.list("/p") == sorted({"/p/d0", "/p/d1", "/p/d2"} | set(paths[40:]))
    assert len(await driver.list("/p/d1")) == len([p for p in paths if p.startswith("/p/d1/")])
    walked = [i.path async for i in driver.walk("/p") if not i.is_dir]
    assert walked == sorted(paths, key=lambda p: p.split("/"))
    await driver.delete("/p/d1")
    assert await driver.list("/p") == sorted({"/p/d0", "/p/d2"} | set(paths[40:]))
    await driver.delete("/p")
    with pytest.raises(PathNotFound):
        await driver.list("/p")
    assert await driver.list("/") == []
    with pytest.raises(PathNotFound):
        await driver.delete("/p")


async def test_delete_file_sibling_prefix_and_emptied_folders(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory()
    for p in ["/t/tags/v1/current/link", "/t/tags/v1.0/current/link", "/t/tagsx"]:
        await driver.put_content(p, b"1")
    await driver.delete("/t/tags/v1")  # must not touch /t/tags/v1.0 nor /t/tagsx
    assert await driver.list("/t/tags") == ["/t/tags/v1.0"]
    await driver.delete("/t/tags/v1.0/current/link")
    # SeaweedFS would keep listing the emptied folders; the driver removes them.
    assert await driver.list("/t") == ["/t/tagsx"]
    with pytest.raises(PathNotFound):
        await driver.stat("/t/tags")
    await driver.delete("/t/tagsx")
    with pytest.raises(PathNotFound):
        await driver.stat("/t")


@pytest.mark.parametrize("size", [3 * MiB, 12 * MiB + 5])
async def test_move_below_and_above_multipart_threshold(
    s3_driver_factory: Factory, seaweedfs_server: S3Server, size: int
) -> None:
    driver = await s3_driver_factory(
        multipartcopythresholdsize=str(5 * MiB),
        multipartcopychunksize=5 * MiB,
        multipartcopymaxconcurrency="2",
    )
    data = os.urandom(size)
    await driver.put_content("/up/id/data", data)
    await driver.put_content("/blobs/x/data", b"old content")
    await driver.move("/up/id/data", "/blobs/x/data")
    assert await driver.get_content("/blobs/x/data") == data
    with pytest.raises(PathNotFound):
        await driver.stat("/up/id/data")
    with pytest.raises(PathNotFound):
        await driver.list("/up")  # the emptied source folders are gone too
    head = seaweedfs_server.client().head_object(
        Bucket=seaweedfs_server.bucket, Key=f"{driver.options.rootdirectory}/blobs/x/data"
    )
    parts = head["ETag"].strip('"').partition("-")[2]
    assert parts == ("3" if size > 5 * MiB else "")  # multipart copy only above threshold
    with pytest.raises(PathNotFound):
        await driver.move("/up/id/data", "/elsewhere")


async def test_redirect_url_is_presigned_and_verified(
    s3_driver_factory: Factory, seaweedfs_server: S3Server
) -> None:
    import httpx

    driver = await s3_driver_factory()
    await driver.put_content("/blob/data", b"redirected bytes")
    await driver.put_content("/blob/other", b"secret")
    url = await driver.redirect_url("/blob/data")
    assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=1200" in url
    async with httpx.AsyncClient() as client:
        ok = await client.get(url)
        assert ok.status_code == 200 and ok.content == b"redirected bytes"
        tampered = await client.get(url.replace("/blob/data", "/blob/other"))
        assert tampered.status_code == 403
        head_url = await driver.redirect_url("/blob/data", "HEAD")
        assert head_url is not None
        assert (await client.head(head_url)).headers["content-length"] == "16"
    assert await driver.redirect_url("/blob/data", "DELETE") is None


async def test_wrong_credentials_give_a_clear_error(s3_driver_factory: Factory) -> None:
    good = await s3_driver_factory()
    await good.put_content("/f", b"1")
    for bad in (
        await s3_driver_factory(rootdirectory=good.options.rootdirectory, secretkey="wrong"),
        await s3_driver_factory(rootdirectory=good.options.rootdirectory, accesskey="nobody"),
    ):
        for call in (bad.stat("/f"), bad.get_content("/f"), bad.put_content("/g", b"2")):
            with pytest.raises(Exception) as caught:  # noqa: PT011 - checked below
                await call
            assert not isinstance(caught.value, PathNotFound)
            assert "accesskey/secretkey" in str(caught.value), caught.value
    assert await good.get_content("/f") == b"1"  # its own credentials, still


async def test_missing_bucket_is_reported(s3_driver_factory: Factory) -> None:
    driver = await s3_driver_factory(bucket="no-such-bucket")
    with pytest.raises(Exception, match="does not exist"):
        await driver.list("/")


async def test_moto_round_trip(s3_moto_driver_factory: Factory) -> None:
    """moto lists in byte order (like AWS): walk order must still be depth-first."""
    driver = await s3_moto_driver_factory()
    for p in ["/r/b/x", "/r/b-c/y", "/r/b.c"]:
        await driver.put_content(p, b"m")
    walked = [i.path async for i in driver.walk("/r")]
    assert walked == ["/r/b", "/r/b/x", "/r/b-c", "/r/b-c/y", "/r/b.c"]
    writer = await driver.writer("/w")
    await writer.write(b"abc")
    await writer.close()
    writer = await driver.writer("/w", append=True)
    assert writer.size == 3
    await writer.write(b"def")
    await writer.commit()
    assert await driver.get_content("/w") == b"abcdef"
    await driver.move("/w", "/r/w")
    await driver.delete("/r")
    assert await driver.list("/") == []


def test_parameters_are_coerced_from_strings(seaweedfs_server: S3Server) -> None:
    params: dict[str, Any] = seaweedfs_server.driver_parameters(
        "/x",
        forcepathstyle="true",
        secure="false",
        chunksize="10485760",
        storageclass="none",
        encrypt="False",
    )
    driver = S3Driver.from_parameters(params)
    assert driver.options.forcepathstyle is True and driver.options.chunksize == 10 * MiB
    assert "StorageClass" not in driver.options.object_args()
    assert driver.options.object_args()["ACL"] == "private"
    assert S3Driver.min_chunk_size == 5 * MiB
    for bad in ({"chunksize": "1024"}, {"secure": "maybe"}, {"storageclass": "COLD"}):
        with pytest.raises(Exception, match="s3 storage driver"):
            S3Driver.from_parameters({**params, **bad})
    with pytest.raises(Exception, match="bucket"):
        S3Driver.from_parameters({"region": "us-east-1"})
