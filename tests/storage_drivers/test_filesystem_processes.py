"""Filesystem-only: crashes (SIGKILL) mid-write, and uploads resumed by another process."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.testsuite.data import read_all, walk_paths
from tests.storage_drivers.fs_worker import STREAM

REPO = Path(__file__).resolve().parents[2]


def _bytes_under(root: str) -> int:
    """What the files under ``root`` hold (one the driver removes meanwhile counts 0)."""
    total = 0
    for directory, _, names in os.walk(root):  # a directory gone meanwhile is skipped
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(os.path.join(directory, name)).st_size
    return total


async def _until_bytes_under(root: str, size: int) -> None:
    """Wait until the files under ``root`` hold ``size`` bytes or more."""
    deadline = asyncio.get_running_loop().time() + 30
    while await asyncio.to_thread(_bytes_under, root) < size:
        assert asyncio.get_running_loop().time() < deadline, f"never {size} bytes under {root}"
        await asyncio.sleep(0.01)


class Worker:
    """``fs_worker`` in a child process, killed for sure at the end."""

    def __init__(self, root: str, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.storage_drivers.fs_worker", root, *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    async def line(self) -> str:
        assert self.proc.stdout is not None
        out = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), 30)
        if not out:
            assert self.proc.stderr is not None
            raise AssertionError(f"worker exited: {self.proc.wait()} {self.proc.stderr.read()}")
        return out.strip()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    async def __aenter__(self) -> Worker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.kill()


async def test_kill_mid_write_leaves_nothing_committed(fs: FilesystemDriver) -> None:
    await fs.put_content("/repo/keep", b"other file")
    async with Worker(fs.root_directory, "write-forever", "/repo/blob") as worker:
        assert await worker.line() == "ready"
        # The writer's batches reach the file on a thread, behind its writes: kill once
        # four chunks are in the file, however loaded the machine (CI once had three).
        await _until_bytes_under(fs.root_directory, 4 * STREAM.chunk_size)
        worker.kill()
        assert worker.proc.returncode == -signal.SIGKILL
    for call in (fs.stat, fs.get_content, fs.reader):
        with pytest.raises(PathNotFound):
            await call("/repo/blob")
    assert await fs.list("/repo") == ["/repo/keep"]
    assert await walk_paths(fs, "/") == ["/repo", "/repo/keep"]

    # What reached the disk is a resumable prefix of the stream: finish the upload.
    w = await fs.writer("/repo/blob", append=True)
    done = w.size
    assert done >= 4 * STREAM.chunk_size
    last = done // STREAM.chunk_size + 3
    for k in range(done // STREAM.chunk_size, last):
        skip = done - k * STREAM.chunk_size if k * STREAM.chunk_size < done else 0
        await w.write(STREAM.chunk(k)[skip:])
    await w.commit()
    total = last * STREAM.chunk_size
    assert (await fs.stat("/repo/blob")).size == total
    got = hashlib.sha256()
    async for piece in await fs.reader("/repo/blob"):
        got.update(piece)
    assert got.digest() == hashlib.sha256(STREAM.range(0, total)).digest()


async def test_kill_mid_overwrite_keeps_old_content(fs: FilesystemDriver) -> None:
    await fs.put_content("/repo/blob", b"committed before")
    async with Worker(fs.root_directory, "write-forever", "/repo/blob") as worker:
        assert await worker.line() == "ready"
        worker.kill()
    assert await fs.get_content("/repo/blob") == b"committed before"
    assert await fs.list("/repo") == ["/repo/blob"]


async def test_kill_during_put_content_leaves_a_whole_version(fs: FilesystemDriver) -> None:
    for delay in (0.0, 0.03, 0.07):
        async with Worker(fs.root_directory, "put-forever", "/link") as worker:
            assert await worker.line() == "ready"
            await asyncio.sleep(delay)
            worker.kill()
        content = await fs.get_content("/link")
        assert len(set(content)) == 1
        i = content[0] - 65
        assert content == bytes([65 + i]) * ((1 << 20) * (i + 1) + i)
        assert await fs.list("/") == ["/link"]  # leftover temp files stay hidden


async def test_upload_resumed_by_another_process(fs: FilesystemDriver) -> None:
    w = await fs.writer("/uploads/u1/data")
    for k in range(3):
        await w.write(STREAM.chunk(k))
    await w.close()
    first = 3 * STREAM.chunk_size

    async with Worker(
        fs.root_directory, "resume", "/uploads/u1/data", str(first), "2", "close"
    ) as worker:
        assert await worker.line() == f"ready {5 * STREAM.chunk_size}"

    w = await fs.writer("/uploads/u1/data", append=True)
    assert w.size == 5 * STREAM.chunk_size
    await w.write(STREAM.chunk(5))
    await w.close()
    with pytest.raises(PathNotFound):
        await fs.stat("/uploads/u1/data")

    async with Worker(
        fs.root_directory, "resume", "/uploads/u1/data", str(6 * STREAM.chunk_size), "1", "commit"
    ) as worker:
        assert await worker.line() == f"ready {7 * STREAM.chunk_size}"

    total = 7 * STREAM.chunk_size
    assert await read_all(fs, "/uploads/u1/data") == STREAM.range(0, total)
    with pytest.raises(PathNotFound):
        await fs.writer("/uploads/u1/data", append=True)
