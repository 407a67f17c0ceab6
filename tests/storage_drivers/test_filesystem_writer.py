"""The filesystem writer's batches: written on a thread while the next piece arrives,
shown to a tap (an upload's running hash) just before they are written, failures
reported by a later call rather than lost, and no descriptor leaked by a cancelled one."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading

import pytest

from storage_drivers.errors import StorageDriverError
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.filesystem.writer import FLUSH_SIZE, INLINE_TAP


def pieces(total: int) -> list[bytes]:
    """Pieces of uneven sizes, like a request body's, from 1 byte to 300 KiB."""
    out, size, seed = [], 0, 0
    while size < total:
        seed += 1
        piece = hashlib.sha256(str(seed).encode()).digest() * (1 + seed * 977 % 9600)
        out.append(piece[: total - size])
        size += len(out[-1])
    return out


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("total", [10, INLINE_TAP + 5, FLUSH_SIZE * 5 + 123])
async def test_the_tap_sees_every_byte_in_order(fs: FilesystemDriver, total: int) -> None:
    data = pieces(total)
    hasher = hashlib.sha256()
    writer = await fs.writer("/w/data")
    assert writer.observe(hasher.update)
    for piece in data:
        await writer.write(piece)
    await writer.observed()
    assert hasher.hexdigest() == hashlib.sha256(b"".join(data)).hexdigest()
    await writer.commit()
    assert await fs.get_content("/w/data") == b"".join(data)


@pytest.mark.parametrize("before", [10, FLUSH_SIZE + 5])
async def test_the_tap_sees_only_what_is_written_after_it_is_set(
    fs: FilesystemDriver, before: int
) -> None:
    """Bytes copied into a writer before its tap is set (a session taken back from data
    distribution wrote) are not the tap's, even while they are still buffered."""
    earlier, later = pieces(before), pieces(INLINE_TAP + 9)
    writer = await fs.writer("/w/data")
    for piece in earlier:
        await writer.write(piece)
    hasher = hashlib.sha256()
    assert writer.observe(hasher.update)
    for piece in later:
        await writer.write(piece)
    await writer.observed()
    assert hasher.hexdigest() == hashlib.sha256(b"".join(later)).hexdigest()
    await writer.commit()
    assert await fs.get_content("/w/data") == b"".join(earlier + later)


async def test_a_resumed_writer_appends_after_batches_on_a_thread(fs: FilesystemDriver) -> None:
    first, second = pieces(FLUSH_SIZE * 3), pieces(FLUSH_SIZE * 2 + 7)
    writer = await fs.writer("/w/data")
    for piece in first:
        await writer.write(piece)
    await writer.close()
    writer = await fs.writer("/w/data", append=True)
    assert writer.size == sum(map(len, first))
    for piece in second:
        await writer.write(piece)
    await writer.close()
    writer = await fs.writer("/w/data", append=True)
    await writer.commit()
    assert await fs.get_content("/w/data") == b"".join(first + second)


async def test_a_failed_batch_is_reported_by_close(fs: FilesystemDriver) -> None:
    def tap(piece: bytes) -> None:
        raise OSError(5, "I/O error")

    writer = await fs.writer("/w/data")
    writer.observe(tap)
    before = open_fds()
    await writer.write(b"x" * FLUSH_SIZE)  # handed to a thread, which fails
    with pytest.raises(StorageDriverError):
        await writer.close()
    assert open_fds() < before
    await writer.close()  # closed: a no-op


async def test_a_cancelled_wait_closes_the_descriptor_once_the_thread_is_done(
    fs: FilesystemDriver,
) -> None:
    release = threading.Event()
    writer = await fs.writer("/w/data")

    def tap(piece: bytes) -> None:
        release.wait(10)

    writer.observe(tap)
    before = open_fds()
    await writer.write(b"x" * FLUSH_SIZE)
    closing = asyncio.ensure_future(writer.close())
    await asyncio.sleep(0.05)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    release.set()
    for _ in range(200):
        if open_fds() < before:
            break
        await asyncio.sleep(0.01)
    assert open_fds() < before
