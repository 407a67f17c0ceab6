"""Driver suite: whole-file round trips, ranged reads and stat, for every driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage_drivers.base import DEFAULT_CHUNK_SIZE, StorageDriver
from storage_drivers.errors import InvalidOffset, PathNotFound
from storage_drivers.testsuite.data import pattern, read_all

SIZES = [0, 1, 2, 7, 4095, 4097, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE + 1, 3_000_017]


class ContentTests:
    """Whole-file round trips, ranged reads and stat."""

    @pytest.mark.parametrize("size", SIZES)
    async def test_put_get_round_trip(self, driver: StorageDriver, size: int) -> None:
        data = pattern(size, seed=size)
        await driver.put_content("/dir/file", data)
        assert await driver.get_content("/dir/file") == data
        assert await read_all(driver, "/dir/file") == data
        assert (await driver.stat("/dir/file")).size == size

    @pytest.mark.parametrize("size", [0, 1, 5, DEFAULT_CHUNK_SIZE * 2 + 3])
    async def test_writer_round_trip(self, driver: StorageDriver, size: int) -> None:
        data = pattern(size, seed=3)
        w = await driver.writer("/w/data")
        for i in range(0, size, 65_537):
            assert await w.write(data[i : i + 65_537]) == len(data[i : i + 65_537])
        assert w.size == size
        await w.commit()
        assert await driver.get_content("/w/data") == data

    async def test_put_content_overwrites(self, driver: StorageDriver) -> None:
        await driver.put_content("/f", b"first version, longer")
        await driver.put_content("/f", b"second")
        assert await driver.get_content("/f") == b"second"
        assert (await driver.stat("/f")).size == 6

    async def test_put_contents_writes_each(self, driver: StorageDriver) -> None:
        await driver.put_content("/m/b", b"old")
        files = {"/m/a/data": b"manifest", "/m/b": b"replaced", "/m/c/d/link": b""}
        await driver.put_contents(files)
        for path, content in files.items():
            assert await driver.get_content(path) == content
        await driver.put_contents({})

    async def test_get_contents_reads_each_and_none_where_nothing_is(
        self, driver: StorageDriver
    ) -> None:
        big = pattern(DEFAULT_CHUNK_SIZE + 5, seed=4)
        await driver.put_contents({"/g/a/link": b"sha256:aa", "/g/b/data": big, "/g/e": b""})
        paths = ["/g/a/link", "/g/missing", "/g/b/data", "/g/a", "/g/e", "/g/a/link/below"]
        assert await driver.get_contents(paths) == [b"sha256:aa", None, big, None, b"", None]
        assert await driver.get_contents([]) == []

    async def test_reader_chunks_are_bounded(self, driver: StorageDriver) -> None:
        data = pattern(DEFAULT_CHUNK_SIZE * 3 + 11, seed=9)
        await driver.put_content("/big", data)
        chunks = [c async for c in await driver.reader("/big")]
        assert b"".join(chunks) == data
        assert all(0 < len(c) <= DEFAULT_CHUNK_SIZE for c in chunks)

    @pytest.mark.parametrize(
        ("offset", "length"),
        [
            (0, None),
            (1, None),
            (999, None),
            (0, 0),
            (0, 1),
            (10, 100),
            (500, 10_000),
            (999, 1),
            (0, 1000),
            (0, 5000),
            (3, -1),
        ],
    )
    async def test_ranged_reads(
        self, driver: StorageDriver, offset: int, length: int | None
    ) -> None:
        data = pattern(1000, seed=4)
        await driver.put_content("/r", data)
        end = None if length is None else offset + max(length, 0)
        assert await read_all(driver, "/r", offset, length) == data[offset:end]

    async def test_ranged_read_across_chunks(self, driver: StorageDriver) -> None:
        data = pattern(DEFAULT_CHUNK_SIZE * 2 + 100, seed=5)
        await driver.put_content("/x", data)
        offset, length = DEFAULT_CHUNK_SIZE - 10, DEFAULT_CHUNK_SIZE + 20
        assert await read_all(driver, "/x", offset, length) == data[offset : offset + length]

    @pytest.mark.parametrize(
        ("offset", "length"), [(0, None), (DEFAULT_CHUNK_SIZE - 10, DEFAULT_CHUNK_SIZE + 20)]
    )
    async def test_send_reader_reads_what_reader_does(
        self, driver: StorageDriver, offset: int, length: int | None
    ) -> None:
        data = pattern(DEFAULT_CHUNK_SIZE * 2 + 100, seed=6)
        await driver.put_content("/s", data)
        chunks = [chunk async for chunk in await driver.send_reader("/s", offset, length)]
        end = None if length is None else offset + length
        assert b"".join(chunks) == data[offset:end]
        with pytest.raises(InvalidOffset):
            await driver.send_reader("/s", len(data) + 1)
        with pytest.raises(PathNotFound):
            await driver.send_reader("/missing")

    async def test_read_at_exactly_size_is_empty(self, driver: StorageDriver) -> None:
        await driver.put_content("/r", b"12345")
        assert await read_all(driver, "/r", 5) == b""
        await driver.put_content("/empty", b"")
        assert await read_all(driver, "/empty", 0) == b""

    @pytest.mark.parametrize("offset", [6, 100, -1, -100])
    async def test_read_bad_offset(self, driver: StorageDriver, offset: int) -> None:
        await driver.put_content("/r", b"12345")
        with pytest.raises(InvalidOffset) as info:
            await driver.reader("/r", offset)  # raised by the call, before any chunk
        assert info.value.offset == offset

    async def test_missing_paths(self, driver: StorageDriver) -> None:
        await driver.put_content("/present/file", b"x")
        for path in ["/missing", "/present/missing", "/present/file/below"]:
            with pytest.raises(PathNotFound):
                await driver.get_content(path)
            with pytest.raises(PathNotFound):
                await driver.reader(path)
            with pytest.raises(PathNotFound):
                await driver.stat(path)

    async def test_directories_are_not_readable_files(self, driver: StorageDriver) -> None:
        await driver.put_content("/d/f", b"x")
        with pytest.raises(PathNotFound):
            await driver.get_content("/d")
        with pytest.raises(PathNotFound):
            await driver.reader("/d")

    async def test_stat(self, driver: StorageDriver) -> None:
        before = datetime.now(UTC) - timedelta(seconds=5)
        await driver.put_content("/s/t/file", b"hello")
        after = datetime.now(UTC) + timedelta(seconds=5)
        info = await driver.stat("/s/t/file")
        assert (info.path, info.size, info.is_dir) == ("/s/t/file", 5, False)
        assert info.mod_time.tzinfo is not None
        assert before <= info.mod_time <= after
        for d in ["/s", "/s/t"]:
            dinfo = await driver.stat(d)
            assert dinfo.is_dir and dinfo.path == d

    async def test_stat_reflects_new_content(self, driver: StorageDriver) -> None:
        await driver.put_content("/f", b"a" * 10)
        await driver.put_content("/f", b"a" * 3)
        assert (await driver.stat("/f")).size == 3

    async def test_content_is_copied_not_referenced(self, driver: StorageDriver) -> None:
        buf = bytearray(b"original")
        await driver.put_content("/c", bytes(buf))
        w = await driver.writer("/w")
        await w.write(bytes(buf))
        buf[:] = b"mutated!"
        await w.commit()
        assert await driver.get_content("/c") == b"original"
        assert await driver.get_content("/w") == b"original"

    async def test_reader_sees_a_snapshot_across_replace(self, driver: StorageDriver) -> None:
        old = pattern(DEFAULT_CHUNK_SIZE * 2, seed=6)
        await driver.put_content("/snap", old)
        it = await driver.reader("/snap")
        first = await it.__anext__()
        await driver.put_content("/snap", b"new")
        rest = b"".join([c async for c in it])
        assert first + rest == old
        assert await driver.get_content("/snap") == b"new"
