"""Resumable writers on S3 multipart uploads.

Layout of an uncommitted writer for ``<path>`` (nothing of it is visible at ``<path>``):

* one multipart upload for the key of ``<path>`` holding every part written so far;
  all parts but a committed last one are at least 5 MiB, as S3 requires;
* when the writer is closed with fewer than 5 MiB not yet in a part, a **tail object**
  at ``<root>/~pending<path>`` holding those bytes, with metadata naming the upload and
  the byte count of the parts before it (``base``). ``~`` is not a path character, so
  ``list``, ``walk`` and ``stat`` never show it.

``writer(path, append=True)`` from any process finds the upload (ListMultipartUploads),
its parts (ListParts) and the tail; a tail whose ``upload-id`` or ``base`` no longer
matches (its bytes went into a part before a crash) is ignored. The upload is the
source of truth: a tail without an upload is garbage that is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage_drivers._s3_backend import S3Backend
from storage_drivers._s3_options import MIN_CHUNK_SIZE
from storage_drivers.base import FileWriter
from storage_drivers.errors import PathNotFound, StorageDriverError, WriterClosed


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    size: int
    etag: str


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What a resuming writer starts from."""

    upload_id: str
    parts: list[Part]
    tail: bytes
    #: the tail object holds exactly ``tail`` at the current base
    tail_stored: bool
    #: a tail object exists, current or stale
    tail_exists: bool


class S3FileWriter(FileWriter):
    """Buffers up to ``chunksize`` in memory and ships full parts as it goes."""

    def __init__(self, backend: S3Backend, path: str, state: ResumeState) -> None:
        self._backend = backend
        self._path = path
        self._key = backend.key(path)
        self._upload_id = state.upload_id
        self._parts = list(state.parts)
        self._parts_size = sum(p.size for p in self._parts)
        self._buf = bytearray(state.tail)
        # Base of the tail object currently stored, None when there is none (or stale).
        self._stored_base: int | None = self._parts_size if state.tail_stored else None
        self._tail_exists = state.tail_exists
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
        if data:
            self._dirty = True
        chunk = self._backend.options.chunksize
        view = memoryview(data)
        while view:
            room = chunk - len(self._buf)
            self._buf += view[:room]
            view = view[room:]
            if len(self._buf) >= chunk:
                await self._ship_buffer()
        return len(data)

    async def _ship_buffer(self) -> None:
        """Upload the whole buffer as the next part (never re-uses a part number)."""
        body, self._buf = self._buf, bytearray()
        size = len(body)
        number = (self._parts[-1].number if self._parts else 0) + 1
        try:
            response = await self._backend.call(
                "upload_part",
                self._path,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=body,  # the bytearray itself: no chunk-sized copy
            )
        except BaseException:
            self._buf = body  # nothing was added meanwhile: the writer stays consistent
            raise
        _release(body)
        self._parts.append(Part(number, size, response["ETag"]))
        self._parts_size += size

    async def close(self) -> None:
        """Persist what is buffered: a part if big enough, else the tail object."""
        if self._done:
            return
        self._done = True
        try:
            if len(self._buf) >= MIN_CHUNK_SIZE:
                await self._ship_buffer()
            if self._buf:
                if self._dirty or self._stored_base != self._parts_size:
                    await self._store_tail()
            elif self._tail_exists:
                await self._drop_tail()
        finally:
            self._buf = bytearray()

    async def _store_tail(self) -> None:
        await self._backend.call(
            "put_object",
            self._path,
            Key=self._backend.tail_key(self._path),
            Body=self._buf,
            ContentType="application/octet-stream",
            Metadata={"upload-id": self._upload_id, "base": str(self._parts_size)},
        )
        self._stored_base = self._parts_size
        self._tail_exists = True

    async def _drop_tail(self) -> None:
        """Delete the tail object and its emptied folders (best effort: it is ignored
        once stale anyway)."""
        tail = self._backend.tail_path(self._path)
        keys = [self._backend.tail_key(self._path), *self._backend.folder_markers(tail)]
        try:
            await self._backend.call(
                "delete_objects",
                self._path,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
            )
        except StorageDriverError:
            pass
        self._stored_base = None
        self._tail_exists = False

    async def cancel(self) -> None:
        self._check_open()
        self._done = True
        self._buf = bytearray()
        await self._abort()
        if self._tail_exists:
            await self._drop_tail()

    async def _abort(self) -> None:
        try:
            await self._backend.call(
                "abort_multipart_upload", self._path, Key=self._key, UploadId=self._upload_id
            )
        except PathNotFound:
            pass

    async def commit(self) -> None:
        """Complete the upload atomically (a plain PUT when no part was ever shipped)."""
        self._check_open()
        self._done = True
        try:
            if not self._parts:
                await self._backend.call(
                    "put_object",
                    self._path,
                    Key=self._key,
                    Body=self._buf,
                    **self._backend.options.object_args(),
                )
                self._buf = bytearray()
                await self._abort()
            else:
                if self._buf:
                    await self._ship_buffer()
                await self._complete()
        finally:
            self._buf = bytearray()
        if self._tail_exists:
            await self._drop_tail()

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


async def start_upload(backend: S3Backend, path: str) -> ResumeState:
    """Discard any uncommitted upload for ``path`` and start a new one."""
    key = backend.key(path)
    previous = await find_uploads(backend, path, key, exact=True)
    for upload_id, _ in previous:
        try:
            await backend.call("abort_multipart_upload", path, Key=key, UploadId=upload_id)
        except PathNotFound:
            pass
    response = await backend.call(
        "create_multipart_upload", path, Key=key, **backend.options.object_args()
    )
    # An earlier upload may have left a tail: the new writer removes it when done.
    return ResumeState(response["UploadId"], [], b"", False, bool(previous))


async def find_uploads(
    backend: S3Backend, path: str, key: str, exact: bool
) -> list[tuple[str, str]]:
    """``(upload id, key)`` of in-progress uploads for ``key`` (or below it), oldest first."""
    found: list[tuple[Any, str, str]] = []
    kwargs: dict[str, Any] = {"Prefix": key}
    while True:
        page = await backend.call("list_multipart_uploads", path, **kwargs)
        for upload in page.get("Uploads", []):
            name = upload["Key"]
            if name == key or (not exact and name.startswith(key + "/")):
                found.append((upload.get("Initiated"), upload["UploadId"], name))
        if not page.get("IsTruncated"):
            break
        kwargs["KeyMarker"] = page.get("NextKeyMarker", "")
        kwargs["UploadIdMarker"] = page.get("NextUploadIdMarker", "")
    found.sort(key=lambda item: (str(item[0]), item[1]))
    return [(upload_id, name) for _, upload_id, name in found]


async def resume_upload(backend: S3Backend, path: str) -> ResumeState:
    """The state of the uncommitted writer for ``path``; PathNotFound when none."""
    key = backend.key(path)
    uploads = [upload_id for upload_id, _ in await find_uploads(backend, path, key, True)]
    if not uploads:
        raise PathNotFound(path, driver="s3")
    tail, meta = await _read_tail(backend, path)
    upload_id = meta.get("upload-id") if meta.get("upload-id") in uploads else uploads[-1]
    assert upload_id is not None
    parts = await _list_parts(backend, path, key, upload_id)
    base = sum(p.size for p in parts)
    if tail is not None and meta.get("upload-id") == upload_id and meta.get("base") == str(base):
        return ResumeState(upload_id, parts, tail, True, True)
    return ResumeState(upload_id, parts, b"", False, tail is not None)


async def _read_tail(backend: S3Backend, path: str) -> tuple[bytes | None, dict[str, str]]:
    try:
        response = await backend.call("get_object", path, Key=backend.tail_key(path))
    except PathNotFound:
        return None, {}
    body = response["Body"]
    try:
        data: bytes = await backend.run(body.read)
    finally:
        body.close()
    return data, dict(response.get("Metadata") or {})


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
    try:
        buffer.clear()
    except BufferError:  # still exported somewhere: leave it to the GC
        pass
