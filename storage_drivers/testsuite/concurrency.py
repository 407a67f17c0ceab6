"""Driver suite: concurrent writers and puts on one driver, for every driver."""

from __future__ import annotations

import asyncio

from storage_drivers.base import DEFAULT_CHUNK_SIZE, StorageDriver
from storage_drivers.testsuite.data import pattern, walk_paths


async def _upload(driver: StorageDriver, path: str, seed: int) -> bytes:
    data = pattern(DEFAULT_CHUNK_SIZE + seed * 1001, seed)
    w = await driver.writer(path)
    for i in range(0, len(data), 100_000):
        await w.write(data[i : i + 100_000])
        await asyncio.sleep(0)  # let the other uploads interleave
    await w.close()
    w = await driver.writer(path, append=True)
    assert w.size == len(data)
    await w.commit()
    return data


class ConcurrencyTests:
    """Concurrent writers, puts and reads on one driver."""

    async def test_concurrent_writers_on_different_paths(self, driver: StorageDriver) -> None:
        paths = [f"/uploads/{i}/data" for i in range(12)]
        results = await asyncio.gather(*(_upload(driver, p, i) for i, p in enumerate(paths)))
        for path, data in zip(paths, results, strict=True):
            assert await driver.get_content(path) == data
        assert await driver.list("/uploads") == sorted(f"/uploads/{i}" for i in range(12))

    async def test_concurrent_put_content(self, driver: StorageDriver) -> None:
        items = {f"/p/{i:03d}": pattern(i * 37, i) for i in range(60)}
        await asyncio.gather(*(driver.put_content(p, d) for p, d in items.items()))
        contents = await asyncio.gather(*(driver.get_content(p) for p in items))
        assert dict(zip(items, contents, strict=True)) == items
        assert await walk_paths(driver, "/p") == sorted(items)

    async def test_concurrent_puts_to_one_path_leave_one_whole_version(
        self, driver: StorageDriver
    ) -> None:
        versions = [bytes([i]) * (50_000 + i) for i in range(20)]
        await asyncio.gather(*(driver.put_content("/contended", v) for v in versions))
        assert await driver.get_content("/contended") in versions
        assert await driver.list("/") == ["/contended"]

    async def test_reads_during_writes(self, driver: StorageDriver) -> None:
        await driver.put_content("/stable", pattern(300_000, 1))

        async def reader() -> None:
            for _ in range(10):
                assert await driver.get_content("/stable") == pattern(300_000, 1)
                await asyncio.sleep(0)

        await asyncio.gather(reader(), _upload(driver, "/w", 2), reader())
        assert await driver.get_content("/w") == pattern(DEFAULT_CHUNK_SIZE + 2002, 2)
