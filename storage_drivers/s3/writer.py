"""Resumable writers on S3: a state object, and a multipart upload only for big data.

An uncommitted writer for ``<path>`` (nothing of it is visible at ``<path>``) is:

* a **state object** at ``<root>/~pending/<path with / as ~>`` (one flat hidden
  directory, see ``S3Backend.tail_key``): its body holds the bytes not yet in a
  part (the tail), its metadata the multipart upload id (``upload-id``, absent while
  there is none) and the byte count of the parts before the tail (``base``). ``~`` is
  not a path character, so ``list``, ``walk`` and ``stat`` never show it;
* a multipart upload for the key of ``<path>``, started only once a full part
  (``chunksize``) is buffered; all its parts but a committed last one are >= 5 MiB.

So a small blob costs no multipart calls at all: committed in the writer session that
wrote it, it is one PutObject; closed before commit, its bytes live in the state object,
where ``writer(path, append=True)`` from any process finds them (one GET). The state
object names the upload, so no call ever lists multipart uploads. When an upload is
started, the state object is rewritten at once to name it (with the tail it already
held), so no upload is ever unreachable from its state object. A tail whose ``base`` no
longer matches the parts (its bytes went into a part before a crash) is stale and
ignored: the parts are the truth.

Uploads left by writers of earlier versions (multipart uploads found by listing, without
an ``upload-id`` in a state object) are not resumed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from storage_drivers.base import FileWriter
from storage_drivers.errors import PathNotFound, StorageDriverError, WriterClosed
from storage_drivers.s3.backend import S3Backend
from storage_drivers.s3.options import MIN_CHUNK_SIZE

UPLOAD_ID = "upload-id"
BASE = "base"
#: Below this a buffer grows as needed; above it, it gets its part-sized bytearray.
SMALL_BUFFER = 256 * 1024


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    size: int
    etag: str


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What a writer starts from."""

    upload_id: str | None
    parts: list[Part]
    tail: bytes
    #: a state object exists
    state_exists: bool
    #: ... and it holds exactly ``tail`` at the parts' size (it is not stale)
    state_current: bool


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


async def abort_quietly(backend: S3Backend, path: str, key: str, upload_id: str) -> None:
    """Abort a multipart upload; one already gone is fine."""
    with contextlib.suppress(PathNotFound):
        await backend.call("abort_multipart_upload", path, Key=key, UploadId=upload_id)


async def read_state(backend: S3Backend, path: str) -> tuple[str | None, int] | None:
    """``(upload id, base)`` from the state object's metadata (a HEAD); None if absent."""
    try:
        head = await backend.call("head_object", path, Key=backend.tail_key(path))
    except PathNotFound:
        return None
    return _parse_metadata(dict(head.get("Metadata") or {}))


def _parse_metadata(metadata: dict[str, str]) -> tuple[str | None, int]:
    upload_id = metadata.get(UPLOAD_ID) or None
    try:
        base = int(metadata.get(BASE, "0"))
    except ValueError:
        base = -1  # never matches: the tail is ignored
    return upload_id, base


async def start_upload(backend: S3Backend, path: str) -> ResumeState:
    """A fresh writer: discard any uncommitted writer for ``path`` (one HEAD when none).

    Nothing is created yet: the state object is written on close, the multipart upload
    once a full part is buffered.
    """
    previous = await read_state(backend, path)
    if previous is None:
        return ResumeState(None, [], b"", False, False)
    upload_id, _ = previous
    if upload_id is not None:
        await abort_quietly(backend, path, backend.key(path), upload_id)
    # The old state object stays until this writer closes (overwrites it) or commits
    # or cancels (removes it); until then an append finds no usable upload in it.
    await backend.call(
        "put_object",
        path,
        Key=backend.tail_key(path),
        Body=b"",
        ContentType="application/octet-stream",
        Metadata={BASE: "0"},
    )
    return ResumeState(None, [], b"", True, True)


async def resume_upload(backend: S3Backend, path: str) -> ResumeState:
    """The state of the uncommitted writer for ``path``; PathNotFound when none."""
    try:
        response = await backend.call("get_object", path, Key=backend.tail_key(path))
    except PathNotFound:
        raise PathNotFound(path, driver="s3") from None
    body = response["Body"]
    try:
        tail: bytes = await backend.run(body.read)
    finally:
        body.close()
    upload_id, base = _parse_metadata(dict(response.get("Metadata") or {}))
    if upload_id is None:
        current = base == 0
        return ResumeState(None, [], tail if current else b"", True, current)
    try:
        parts = await _list_parts(backend, path, backend.key(path), upload_id)
    except PathNotFound:
        raise PathNotFound(path, driver="s3") from None  # the upload was aborted
    # A stale tail's bytes went into a part before the state object was rewritten.
    current = sum(p.size for p in parts) == base
    return ResumeState(upload_id, parts, tail if current else b"", True, current)


async def _list_parts(backend: S3Backend, path: str, key: str, upload_id: str) -> list[Part]:
    parts: list[Part] = []
    kwargs: dict[str, Any] = {"Key": key, "UploadId": upload_id}
    while True:
        page = await backend.call("list_parts", path, **kwargs)
        parts.extend(
            Part(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"]))
            for p in page.get("Parts", [])
        )
        if not page.get("IsTruncated"):
            break
        kwargs["PartNumberMarker"] = page.get("NextPartNumberMarker", 0)
    parts.sort(key=lambda p: p.number)
    for part in parts[:-1]:
        if part.size < MIN_CHUNK_SIZE:
            raise StorageDriverError(
                f"s3 upload for {path} has a {part.size}-byte part before its last one; "
                "it cannot be completed",
                driver="s3",
                path=path,
            )
    return parts


def _release(buffer: bytearray) -> None:
    """Free a shipped part now: botocore's request objects sit in reference cycles, so
    without this each part would linger until the cyclic GC runs."""
    with contextlib.suppress(BufferError):  # still exported somewhere: leave it to the GC
        buffer.clear()
