"""Driver suite: writers (upload sessions at the byte level) for every driver."""

from __future__ import annotations

import functools

import pytest

from storage_drivers.base import DEFAULT_CHUNK_SIZE, StorageDriver
from storage_drivers.errors import PathNotFound, StorageDriverError, WriterClosed
from storage_drivers.testsuite.data import leave_pending, pattern, read_all, walk_paths
from storage_drivers.testsuite.target import Drivers


class WriterTests:
    """Writers: resume, invisibility until commit, cancel, close."""

    async def test_resume_with_append_concatenates(self, driver: StorageDriver) -> None:
        a, b, c = pattern(1000, 1), pattern(DEFAULT_CHUNK_SIZE + 3, 2), pattern(17, 3)
        await leave_pending(driver, "/up/data", a)
        w = await driver.writer("/up/data", append=True)
        assert w.size == len(a)
        await w.write(b)
        assert w.size == len(a) + len(b)
        await w.close()
        w = await driver.writer("/up/data", append=True)
        assert w.size == len(a) + len(b)
        await w.write(c)
        await w.commit()
        assert await driver.get_content("/up/data") == a + b + c

    async def test_write_with_runs_the_work_and_writes(self, driver: StorageDriver) -> None:
        pieces = [pattern(DEFAULT_CHUNK_SIZE, 4), pattern(100, 5), pattern(DEFAULT_CHUNK_SIZE, 6)]
        seen: list[bytes] = []
        w = await driver.writer("/with")
        for piece in pieces:
            assert await w.write_with(piece, functools.partial(seen.append, piece)) == len(piece)
            assert seen[-1] is piece  # done by the time write_with returns
        await w.commit()
        assert await driver.get_content("/with") == b"".join(pieces)

    async def test_writer_as_context_manager_closes(self, driver: StorageDriver) -> None:
        async with await driver.writer("/ctx") as w:
            await w.write(b"abc")
        w = await driver.writer("/ctx", append=True)
        assert w.size == 3
        await w.commit()
        assert await driver.get_content("/ctx") == b"abc"

    async def test_uncommitted_data_is_invisible(self, driver: StorageDriver) -> None:
        await driver.put_content("/dir/other", b"o")
        w = await driver.writer("/dir/pending")
        await w.write(b"secret")
        for closed in (False, True):
            if closed:
                await w.close()
            with pytest.raises(PathNotFound):
                await driver.stat("/dir/pending")
            with pytest.raises(PathNotFound):
                await driver.get_content("/dir/pending")
            with pytest.raises(PathNotFound):
                await driver.reader("/dir/pending")
            assert await driver.list("/dir") == ["/dir/other"]
            assert await walk_paths(driver, "/") == ["/dir", "/dir/other"]

    async def test_uncommitted_overwrite_keeps_old_content(self, driver: StorageDriver) -> None:
        await driver.put_content("/f", b"old content")
        await leave_pending(driver, "/f", b"new")
        assert await driver.get_content("/f") == b"old content"
        assert (await driver.stat("/f")).size == len(b"old content")
        w = await driver.writer("/f", append=True)
        await w.write(b" content, committed")
        await w.commit()
        assert await driver.get_content("/f") == b"new content, committed"

    async def test_start_writer_puts_the_files_beside(self, driver: StorageDriver) -> None:
        await leave_pending(driver, "/up/data", b"stale")
        w = await driver.start_writer("/up/data", {"/up/startedat": b"now"})
        assert await driver.get_content("/up/startedat") == b"now"
        assert w.size == 0
        await w.close()
        with pytest.raises(PathNotFound):
            await driver.stat("/up/data")
        w = await driver.writer("/up/data", append=True)
        assert w.size == 0
        await w.write(b"fresh")
        await w.commit()
        assert await driver.get_content("/up/data") == b"fresh"

    async def test_publish_moves_puts_and_removes_in_one_call(self, driver: StorageDriver) -> None:
        """An upload's end: the data lands at the destination (not at the writer's path),
        the files beside are put, the session directory is gone; pieces written before
        and after a resume all arrive."""
        first, last = pattern(DEFAULT_CHUNK_SIZE + 9, 4), pattern(300, 5)
        w = await driver.start_writer("/up/s/data", {"/up/s/startedat": b"now"})
        await w.write(first)
        await w.close()
        w = await driver.writer("/up/s/data", append=True)
        await w.write(last)
        await driver.publish(w, "/up/s/data", "/blobs/b/data", {"/links/b/link": b"b"}, "/up/s")
        assert await driver.get_content("/blobs/b/data") == first + last
        assert await driver.get_content("/links/b/link") == b"b"
        for gone in ("/up/s/data", "/up/s/startedat", "/up/s"):
            with pytest.raises(PathNotFound):
                await driver.stat(gone)
        with pytest.raises(PathNotFound):
            await driver.writer("/up/s/data", append=True)
        # replacing existing files, with the session already removed: no error
        w = await driver.writer("/up/t/data")
        await w.write(b"new")
        await driver.publish(w, "/up/t/data", "/blobs/b/data", {"/links/b/link": b"c"}, "/up/x")
        assert await driver.get_content("/blobs/b/data") == b"new"
        assert await driver.get_content("/links/b/link") == b"c"

    async def test_append_without_writer_is_path_not_found(self, driver: StorageDriver) -> None:
        with pytest.raises(PathNotFound):
            await driver.writer("/nothing", append=True)
        await driver.put_content("/committed", b"x")
        with pytest.raises(PathNotFound):  # a committed file is not an upload in progress
            await driver.writer("/committed", append=True)

    async def test_cancel_leaves_nothing(self, driver: StorageDriver) -> None:
        w = await driver.writer("/c/data")
        await w.write(pattern(DEFAULT_CHUNK_SIZE + 5))
        await w.cancel()
        with pytest.raises(PathNotFound):
            await driver.stat("/c/data")
        with pytest.raises(PathNotFound):
            await driver.writer("/c/data", append=True)

    async def test_cancel_after_resume(self, driver: StorageDriver) -> None:
        await driver.put_content("/c", b"keep")
        await leave_pending(driver, "/c", b"drop")
        w = await driver.writer("/c", append=True)
        await w.cancel()
        assert await driver.get_content("/c") == b"keep"
        with pytest.raises(PathNotFound):
            await driver.writer("/c", append=True)

    async def test_writer_without_append_discards_old_data(self, driver: StorageDriver) -> None:
        await leave_pending(driver, "/u", b"stale data")
        w = await driver.writer("/u")
        assert w.size == 0
        await w.write(b"fresh")
        await w.close()
        w = await driver.writer("/u", append=True)
        assert w.size == 5
        await w.commit()
        assert await driver.get_content("/u") == b"fresh"

    async def test_commit_overwrites_existing_file(self, driver: StorageDriver) -> None:
        await driver.put_content("/o", pattern(5000, 1))
        w = await driver.writer("/o")
        await w.write(b"short")
        await w.commit()
        assert await driver.get_content("/o") == b"short"
        assert (await driver.stat("/o")).size == 5
        with pytest.raises(PathNotFound):  # the committed writer is gone
            await driver.writer("/o", append=True)

    async def test_empty_commit_creates_empty_file(self, driver: StorageDriver) -> None:
        w = await driver.writer("/e")
        await w.commit()
        assert await driver.get_content("/e") == b""
        assert (await driver.stat("/e")).size == 0

    async def test_closed_writer_refuses_work(self, driver: StorageDriver) -> None:
        w = await driver.writer("/z")
        await w.write(b"1")
        await w.commit()
        with pytest.raises(WriterClosed):
            await w.write(b"2")
        with pytest.raises(WriterClosed):
            await w.commit()
        with pytest.raises(WriterClosed):
            await w.cancel()
        await w.close()  # close after commit is harmless (async with does it)
        w = await driver.writer("/y")
        await w.close()
        with pytest.raises(WriterClosed):
            await w.write(b"x")
        with pytest.raises(StorageDriverError):
            await w.commit()
        assert await driver.get_content("/z") == b"1"

    async def test_delete_of_directory_discards_writers_below(self, driver: StorageDriver) -> None:
        await driver.put_content("/uploads/x/startedat", b"t")
        await leave_pending(driver, "/uploads/x/data", b"partial")
        await driver.delete("/uploads/x")
        with pytest.raises(PathNotFound):
            await driver.writer("/uploads/x/data", append=True)
        with pytest.raises(PathNotFound):
            await driver.stat("/uploads/x/startedat")

    async def test_delete_of_path_discards_its_writer(self, driver: StorageDriver) -> None:
        await leave_pending(driver, "/only-pending", b"partial")
        await driver.delete("/only-pending")
        with pytest.raises(PathNotFound):
            await driver.writer("/only-pending", append=True)
        with pytest.raises(PathNotFound):
            await driver.delete("/only-pending")

    async def test_many_small_writes(self, driver: StorageDriver) -> None:
        w = await driver.writer("/small")
        expected = bytearray()
        for i in range(3000):
            piece = bytes([i % 251]) * (i % 13)
            expected += piece
            await w.write(piece)
        assert w.size == len(expected)
        await w.commit()
        assert await read_all(driver, "/small") == bytes(expected)

    async def test_upload_resumes_on_another_instance(
        self, drivers: Drivers, driver: StorageDriver
    ) -> None:
        """An upload closed by one instance is resumed, committed and seen by another
        instance on the same storage (another worker or process of the registry)."""
        first, second = pattern(DEFAULT_CHUNK_SIZE + 11, 7), pattern(4099, 8)
        await leave_pending(driver, "/shared/data", first)
        other = drivers.reopen(driver)
        w = await other.writer("/shared/data", append=True)
        assert w.size == len(first)
        await w.write(second)
        await w.commit()
        assert await driver.get_content("/shared/data") == first + second
        assert await other.get_content("/shared/data") == first + second
        with pytest.raises(PathNotFound):  # the writer is gone for every instance
            await driver.writer("/shared/data", append=True)
