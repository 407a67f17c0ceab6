"""The ``swift`` driver's writer: streamed segments, then one DLO manifest on commit.

Data goes straight into a segment PUT (chunked transfer) as it is written, so memory
stays at a few small pieces whatever ``chunksize`` is. A segment ends when it reaches
``chunksize`` or when the writer is closed; Swift has no minimum segment size, so a
short last segment is fine and a later session simply continues with the next number.
Nothing is visible at the path until ``commit`` writes the manifest there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

from storage_drivers.base import FileWriter
from storage_drivers.errors import PathNotFound, StorageDriverError, WriterClosed
from storage_drivers.swift.connection import DRIVER, SwiftConnection, swift_error
from storage_drivers.swift.layout import Layout, decode_state, encode_state
from storage_drivers.swift.objects import delete_prefix, head_raw, replace_cleanup

#: Largest piece handed to a segment upload at once, and how many may wait in line.
PIECE_SIZE = 1 << 20
QUEUE_DEPTH = 4
#: How long commit waits for an eventually consistent listing to show every segment.
VISIBLE_TIMEOUT = 15.0
OCTET_STREAM = {"Content-Type": "application/octet-stream"}
#: A segment upload with no new data for this long is abandoned; Swift's proxy gives up
#: on an idle request body after its ``client_timeout`` (60 s by default) anyway.
IDLE_TIMEOUT = 60.0
_running: set[asyncio.Task[httpx.Response]] = set()


class _SegmentUpload:
    """One segment PUT whose body is fed piece by piece while the request runs."""

    def __init__(self, conn: SwiftConnection, name: str) -> None:
        self.name = name
        self.size = 0
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_DEPTH)
        self._task = asyncio.create_task(self._put(conn))
        # held until done, so a writer dropped without close still ends its request
        _running.add(self._task)
        self._task.add_done_callback(_running.discard)

    async def _body(self) -> AsyncIterator[bytes]:
        while True:
            try:
                piece = await asyncio.wait_for(self._queue.get(), IDLE_TIMEOUT)
            except TimeoutError:
                raise StorageDriverError(
                    f"swift: no data for {self.name} in {IDLE_TIMEOUT:.0f}s", driver=DRIVER
                ) from None
            if piece is None:
                return
            yield piece

    async def _put(self, conn: SwiftConnection) -> httpx.Response:
        path = conn.object_path(self.name)
        return await conn.request("PUT", path, content=self._body(), headers=OCTET_STREAM)

    def _failure(self) -> StorageDriverError:
        """Why the PUT ended before its body did."""
        if self._task.cancelled():
            return StorageDriverError(f"swift: upload of {self.name} cancelled", driver=DRIVER)
        exc = self._task.exception()
        if isinstance(exc, StorageDriverError):
            return exc
        if exc is not None:
            return StorageDriverError(f"swift: upload of {self.name}: {exc!r}", driver=DRIVER)
        return swift_error(self._task.result(), self.name)

    async def _enqueue(self, item: bytes | None) -> None:
        if self._task.done():
            raise self._failure()
        if not self._queue.full():
            self._queue.put_nowait(item)
            return
        put = asyncio.ensure_future(self._queue.put(item))
        done, _ = await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if put not in done:
            put.cancel()
            raise self._failure()

    async def send(self, piece: bytes) -> None:
        await self._enqueue(piece)
        self.size += len(piece)

    async def finish(self) -> None:
        """End the body and wait until Swift has stored the segment."""
        await self._enqueue(None)
        try:
            response = await self._task
        except StorageDriverError:
            raise
        except Exception as exc:
            raise StorageDriverError(f"swift: upload of {self.name}: {exc!r}") from exc
        if not response.is_success:
            raise swift_error(response, self.name)

    async def abort(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


class SwiftWriter(FileWriter):
    """Appends to the segments of one path; ``commit`` publishes them as a DLO."""

    def __init__(
        self,
        conn: SwiftConnection,
        layout: Layout,
        path: str,
        segments: str,
        size: int,
        next_number: int,
    ) -> None:
        self._conn = conn
        self._layout = layout
        self._path = path
        self._segments = segments
        self._size = size
        self._next = next_number
        self._upload: _SegmentUpload | None = None
        self._done = False
        self._broken = False

    @property
    def size(self) -> int:
        return self._size

    def _check_open(self) -> None:
        if self._done:
            raise WriterClosed("writer already closed", driver=DRIVER, path=self._path)
        if self._broken:
            raise StorageDriverError(
                "swift: an earlier segment upload failed; resume the writer",
                driver=DRIVER,
                path=self._path,
            )

    async def write(self, data: bytes) -> int:
        self._check_open()
        view = memoryview(data)
        chunk_size = self._conn.params.chunksize
        try:
            while view:
                if self._upload is None:
                    await self._conn.confirm_token()
                    name = self._layout.segment(self._segments, self._next)
                    self._upload = _SegmentUpload(self._conn, name)
                    self._next += 1
                room = min(chunk_size - self._upload.size, PIECE_SIZE)
                whole = len(view) == len(data) <= room and isinstance(data, bytes)
                piece, view = (data if whole else bytes(view[:room])), view[room:]
                await self._upload.send(piece)
                self._size += len(piece)
                if self._upload.size >= chunk_size:
                    await self._flush()
        except BaseException:
            await self._break()
            raise
        return len(data)

    async def _flush(self) -> None:
        upload, self._upload = self._upload, None
        if upload is not None:
            await upload.finish()

    async def _break(self) -> None:
        self._broken = True
        upload, self._upload = self._upload, None
        if upload is not None:
            await upload.abort()

    async def close(self) -> None:
        if self._done:
            return
        self._done = True
        if self._broken:
            return
        try:
            await self._flush()
        except BaseException:
            await self._break()
            raise

    async def cancel(self) -> None:
        if self._done:
            raise WriterClosed("writer already closed", driver=DRIVER, path=self._path)
        self._done = True
        await self._break()
        state = self._layout.writer_state(self._path)
        response = await self._conn.request("DELETE", self._conn.object_path(state))
        if not response.is_success and response.status_code != 404:
            raise swift_error(response, state)
        await delete_prefix(self._conn, self._segments + "/")

    async def commit(self) -> None:
        self._check_open()
        try:
            await self._flush()
        except BaseException:
            await self._break()
            raise
        self._done = True
        conn, name = self._conn, self._layout.file(self._path)
        old = await head_raw(conn, name)
        manifest: str | None = None
        headers = dict(OCTET_STREAM)
        if self._next > 1:
            manifest = headers["X-Object-Manifest"] = self._layout.manifest_header(self._segments)
        response = await conn.request("PUT", conn.object_path(name), content=b"", headers=headers)
        if not response.is_success:
            raise swift_error(response, name)
        if manifest is not None:
            await self._wait_visible(name)
        await replace_cleanup(conn, self._layout, old, manifest)
        state = self._layout.writer_state(self._path)
        await conn.request("DELETE", conn.object_path(state))

    async def _wait_visible(self, name: str) -> None:
        """Wait until the manifest's size covers every segment, as distribution does."""
        delay, waited = 0.05, 0.0
        while True:
            response = await self._conn.request("HEAD", self._conn.object_path(name))
            length = response.headers.get("Content-Length")
            if response.is_success and length is not None and int(length) == self._size:
                return
            if waited >= VISIBLE_TIMEOUT:
                raise StorageDriverError(
                    f"swift: segments of {self._path} did not show up in time "
                    f"(size {length}, expected {self._size})",
                    driver=DRIVER,
                    path=self._path,
                )
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 2.0)


async def open_writer(
    conn: SwiftConnection, layout: Layout, path: str, append: bool
) -> SwiftWriter:
    """A new session (discarding an uncommitted one), or the uncommitted one resumed."""
    state = layout.writer_state(path)
    response = await conn.request("GET", conn.object_path(state))
    if response.status_code not in (200, 404):
        raise swift_error(response, state)
    previous = decode_state(response.content) if response.status_code == 200 else ""
    if append:
        if not previous:
            raise PathNotFound(path, driver=DRIVER)
        size, count = await _existing_segments(conn, layout, previous)
        return SwiftWriter(conn, layout, path, previous, size, count + 1)
    if previous and layout.owns(conn.params.container, previous):
        await delete_prefix(conn, previous + "/")
    segments = layout.new_segments(path)
    body = encode_state(path, segments)
    response = await conn.request("PUT", conn.object_path(state), content=body)
    if not response.is_success:
        raise swift_error(response, state)
    return SwiftWriter(conn, layout, path, segments, 0, 1)


async def _existing_segments(
    conn: SwiftConnection, layout: Layout, segments: str
) -> tuple[int, int]:
    """Total size and count of a session's segments; a listing that lags is completed
    by HEADing the missing numbers, as segments are written strictly in order."""
    listed: dict[int, int] = {}
    async for entry in conn.listing(segments + "/"):
        tail = str(entry.get("name", "")).rsplit("/", 1)[-1]
        if tail.isdigit():
            listed[int(tail)] = int(entry.get("bytes", 0))
    size, number = 0, 1
    while True:
        if number in listed:
            size += listed[number]
        else:
            name = layout.segment(segments, number)
            response = await conn.request("HEAD", conn.object_path(name))
            if response.status_code == 404:
                return size, number - 1
            if not response.is_success:
                raise swift_error(response, name)
            size += int(response.headers.get("Content-Length", 0))
        number += 1
