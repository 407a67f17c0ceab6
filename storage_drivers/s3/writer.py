"""Resumable writers on S3: a state object, and a multipart upload only for big data.

Where an uncommitted writer stands (its state object, its multipart upload) and how a
writer starts from it: :mod:`storage_drivers.s3.upload_state`. A writer buffers up to
``chunksize`` and ships full parts as it goes; on close it persists what it buffers (a
part when big enough, else in the state object), on commit it completes the upload (a
plain PutObject when no part was ever shipped).
"""

from __future__ import annotations

import contextlib

from storage_drivers.base import FileWriter
from storage_drivers.errors import StorageDriverError, WriterClosed
from storage_drivers.s3.backend import S3Backend
from storage_drivers.s3.options import MIN_CHUNK_SIZE
from storage_drivers.s3.upload_state import BASE, UPLOAD_ID, Part, ResumeState, abort_quietly

#: Below this a buffer grows as needed; above it, it gets its part-sized bytearray.
SMALL_BUFFER = 256 * 1024


class PartBuffer:
    """Bytes waiting to become a part, copied in place into one part-sized bytearray.

    Growing a bytearray with ``+=`` re-allocates and copies as it goes (four times the
    cost of filling it in place); small contents (a small blob's few KiB) never get
    the part-sized allocation.
    """

    def __init__(self, capacity: int, initial: bytes = b"") -> None:
        self._capacity = capacity
        self._data = bytearray(initial)
        self._filled = len(initial)

    def __len__(self) -> int:
        return self._filled

    def fill(self, view: memoryview) -> int:
        """Copy as much of ``view`` as fits in one part; return how many bytes."""
        taken = min(len(view), self._capacity - self._filled)
        end = self._filled + taken
        if end > len(self._data):
            if end <= SMALL_BUFFER:
                self._data.extend(view[:taken])
                self._filled = end
                return taken
            grown = bytearray(self._capacity)
            grown[: self._filled] = memoryview(self._data)[: self._filled]
            self._data = grown
        self._data[self._filled : end] = view[:taken]
        self._filled = end
        return taken

    def take(self) -> bytearray:
        """The buffered bytes (a bytearray of exactly their size); the buffer empties."""
        data, filled = self._data, self._filled
        self._data, self._filled = bytearray(), 0
        if len(data) != filled:
            del data[filled:]
        return data

    def restore(self, data: bytearray) -> None:
        """Put back what :meth:`take` returned (a part that could not be shipped)."""
        self._data, self._filled = data, len(data)

    def head(self, count: int) -> bytes:
        """A copy of the first ``count`` buffered bytes."""
        return bytes(memoryview(self._data)[: min(count, self._filled)])


class S3FileWriter(FileWriter):
    """Buffers up to ``chunksize`` in memory and ships full parts as it goes."""

    def __init__(self, backend: S3Backend, path: str, state: ResumeState) -> None:
        self._backend = backend
        self._path = path
        self._key = backend.key(path)
        self._upload_id = state.upload_id
        self._parts = list(state.parts)
        self._parts_size = sum(p.size for p in self._parts)
        self._buf = PartBuffer(backend.options.chunksize, state.tail)
        #: what the state object holds: ``_stored_tail`` leading bytes of the buffer at
        #: base ``_stored_base`` (None: no state object, or one with a stale tail)
        self._stored_tail = len(state.tail)
        self._stored_base: int | None = self._parts_size if state.state_current else None
        self._state_exists = state.state_exists
        self._dirty = False
        self._done = False

    @property
    def size(self) -> int:
        return self._parts_size + len(self._buf)

    def _check_open(self) -> None:
        if self._done:
            raise WriterClosed("writer already closed", driver="s3", path=self._path)

    async def write(self, data: bytes) -> int:
        self._check_open()
        if not data:
            return 0
        self._dirty = True
        view = memoryview(data)
        chunk = self._backend.options.chunksize
        while view:
            view = view[self._buf.fill(view) :]
            if len(self._buf) >= chunk:
                await self._ship_buffer()
        return len(data)

    async def _ship_buffer(self) -> None:
        """Upload the whole buffer as the next part (never re-uses a part number)."""
        upload_id = await self._ensure_upload()
        body = self._buf.take()
        number = (self._parts[-1].number if self._parts else 0) + 1
        try:
            response = await self._backend.call(
                "upload_part",
                self._path,
                Key=self._key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,  # the bytearray itself: no part-sized copy
            )
        except BaseException:
            self._buf.restore(body)  # nothing was added meanwhile: still consistent
            raise
        size = len(body)
        _release(body)
        self._parts.append(Part(number, size, response["ETag"]))
        self._parts_size += size
        self._stored_tail = 0

    async def _ensure_upload(self) -> str:
        """Start the multipart upload and name it in the state object at once, with the
        tail the state object already held (what the last close made durable)."""
        if self._upload_id is not None:
            return self._upload_id
        response = await self._backend.call(
            "create_multipart_upload",
            self._path,
            Key=self._key,
            **self._backend.options.object_args(),
        )
        self._upload_id = str(response["UploadId"])
        held = self._stored_tail if self._stored_base == 0 else 0
        await self._store_state(self._buf.head(held))
        return self._upload_id

    async def close(self) -> None:
        """Persist what is buffered: a part if big enough, else in the state object."""
        if self._done:
            return
        self._done = True
        try:
            if len(self._buf) >= MIN_CHUNK_SIZE:
                await self._ship_buffer()
            stored = self._stored_base == self._parts_size and self._stored_tail == len(self._buf)
            if self._dirty or not stored:
                await self._store_state(self._buf.head(len(self._buf)))
        finally:
            self._buf = PartBuffer(0)

    async def _store_state(self, tail: bytes) -> None:
        metadata = {BASE: str(self._parts_size)}
        if self._upload_id is not None:
            metadata[UPLOAD_ID] = self._upload_id
        await self._backend.call(
            "put_object",
            self._path,
            Key=self._backend.tail_key(self._path),
            Body=tail,
            ContentType="application/octet-stream",
            Metadata=metadata,
        )
        self._stored_base = self._parts_size
        self._stored_tail = len(tail)
        self._state_exists = True

    async def _drop_state(self) -> None:
        """Delete the state object (best effort: one left behind only makes the path look
        resumable until the next fresh writer or delete)."""
        keys = [self._backend.tail_key(self._path)]  # a flat directory: no folders to prune
        with contextlib.suppress(StorageDriverError):
            await self._backend.call(
                "delete_objects",
                self._path,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
            )
        self._stored_base = None
        self._state_exists = False

    async def cancel(self) -> None:
        self._check_open()
        self._done = True
        self._buf = PartBuffer(0)
        await self._abort()
        if self._state_exists:
            await self._drop_state()

    async def _abort(self) -> None:
        if self._upload_id is not None:
            await abort_quietly(self._backend, self._path, self._key, self._upload_id)

    async def commit(self) -> None:
        """Complete the upload atomically (a plain PUT when no part was ever shipped)."""
        self._check_open()
        self._done = True
        size = self.size
        try:
            if not self._parts:
                await self._backend.call(
                    "put_object",
                    self._path,
                    Key=self._key,
                    Body=self._buf.take(),
                    **self._backend.options.object_args(),
                )
                await self._abort()
            else:
                if len(self._buf):
                    await self._ship_buffer()
                await self._complete()
        finally:
            self._buf = PartBuffer(0)
        self._backend.remember_size(self._key, size)
        if self._state_exists:
            await self._drop_state()

    async def commit_as(self, key: str, *, drop_state: bool = True) -> bool:
        """Commit a writer that never shipped a part (its data all in memory) as the
        object ``key`` instead of its own: one PutObject, where committing and then
        moving cost four calls (put, copy, delete, a listing). False, touching nothing,
        when parts were shipped. With ``drop_state=False`` the state object is left for
        the caller to delete in a batch of its own (:attr:`state_keys`)."""
        self._check_open()
        if self._parts or self._upload_id is not None:
            return False
        self._done = True
        size = self.size
        try:
            await self._backend.call(
                "put_object",
                self._path,
                Key=key,
                Body=self._buf.take(),
                **self._backend.options.object_args(),
            )
        finally:
            self._buf = PartBuffer(0)
        self._backend.remember_size(key, size)
        if self._state_exists and drop_state:
            await self._drop_state()
        return True

    @property
    def state_keys(self) -> list[str]:
        """The key of this writer's state object, if it has one in the bucket."""
        return [self._backend.tail_key(self._path)] if self._state_exists else []

    async def _complete(self) -> None:
        parts = [{"PartNumber": p.number, "ETag": p.etag} for p in self._parts]
        try:
            await self._backend.call(
                "complete_multipart_upload",
                self._path,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": parts},
            )
        except StorageDriverError:
            # The last part may be small now: the upload cannot be resumed correctly.
            await self._abort()
            raise


def _release(buffer: bytearray) -> None:
    """Free a shipped part now: botocore's request objects sit in reference cycles, so
    without this each part would linger until the cyclic GC runs."""
    with contextlib.suppress(BufferError):  # still exported somewhere: leave it to the GC
        buffer.clear()
