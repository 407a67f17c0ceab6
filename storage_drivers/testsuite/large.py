"""Driver suite: a big blob (256 MiB unless the target's ``big_blob_mib`` says otherwise)
streams through writer and reader in bounded memory."""

from __future__ import annotations

import gc
import hashlib
import os
import threading
import time

import pytest

from storage_drivers.base import DEFAULT_CHUNK_SIZE, StorageDriver
from storage_drivers.testsuite.data import ChunkStream, read_all
from storage_drivers.testsuite.target import Drivers

MIB = 1 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")
ALLOWED_GROWTH = 64 * MIB


def current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakRss:
    """Samples this process's resident memory on a thread while a stream runs."""

    def __init__(self) -> None:
        self.peak = current_rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.note()

    def note(self) -> None:
        self.peak = max(self.peak, current_rss())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.note()


class LargeBlobTests:
    """A 256 MiB+ blob streams through writer and reader in bounded memory."""

    @pytest.mark.slow
    async def test_big_blob_streams_in_bounded_memory(
        self, drivers: Drivers, driver: StorageDriver
    ) -> None:
        # An odd chunk size so writes never line up with the driver's own chunking.
        count = max(drivers.target.big_blob_mib, 2 * ALLOWED_GROWTH // MIB)
        stream = ChunkStream(chunk_size=MIB + 7, count=count)
        assert stream.size >= count * MIB
        expected = stream.sha256()
        allowed = ALLOWED_GROWTH
        if drivers.target.content_in_process:
            allowed += stream.size * 5 // 4  # the content itself lives in this process
        gc.collect()
        baseline = current_rss()
        started = time.monotonic()
        with PeakRss() as rss:
            w = await driver.writer("/big/data")
            for k, chunk in enumerate(stream.chunks()):
                await w.write(chunk)
                if k == count * 2 // 5:  # an upload resumed midway, as a chunked PATCH upload does
                    await w.close()
                    w = await driver.writer("/big/data", append=True)
                rss.note()
            assert w.size == stream.size
            await w.commit()
            rss.note()
            got = hashlib.sha256()
            read = 0
            async for piece in await driver.reader("/big/data"):
                assert 0 < len(piece) <= DEFAULT_CHUNK_SIZE
                got.update(piece)
                read += len(piece)
                rss.note()
        assert read == stream.size
        assert got.hexdigest() == expected
        growth = rss.peak - baseline
        assert growth < allowed, f"RSS grew by {growth / MIB:.1f} MiB (allowed {allowed / MIB:.0f})"
        assert (await driver.stat("/big/data")).size == stream.size
        offset, length = stream.size - 3 * MIB - 5, 3 * MIB
        assert await read_all(driver, "/big/data", offset, length) == stream.range(offset, length)
        await driver.delete("/big")
        assert time.monotonic() - started < 60
