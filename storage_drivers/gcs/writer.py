"""Writers: uncommitted data as numbered segment objects beside the path, composed into
the path's object on commit.

GCS objects are immutable and a resumable upload session lives in one process's memory,
so a writer keeps what it was given as objects of its own under ``<key>~partial/``: a
``state`` marker (the writer exists, even empty) and ``s<n>`` segments of at most
``chunksize`` bytes. Any process resumes a writer by listing them (``append``). ``commit``
composes the segments into the path's object (GCS's compose: up to 32 sources a call,
chained through intermediates; atomic, nothing is copied through the registry) and
removes the rest; past GCS's 1,024 components an object cannot be composed, so such a
writer's segments are streamed into one upload instead. ``~`` is outside the path
grammar: listings and walks never show these objects.
"""

from __future__ import annotations

import contextlib
import re

from storage_drivers.base import FileWriter
from storage_drivers.errors import PathNotFound, WriterClosed
from storage_drivers.gcs.backend import GCSBackend
from storage_drivers.gcs.parameters import DRIVER

PARTIAL = "~partial/"
STATE = "state"
#: Sources a compose call takes at most.
COMPOSE_MAX = 32
#: Components a composite object may have at most (GCS's limit).
COMPONENTS_MAX = 1024
#: What a streamed re-upload reads at a time.
COPY_CHUNK = 8 * 1024 * 1024
_SEGMENT = re.compile(r"s(\d{8})")


def partial_prefix(backend: GCSBackend, path: str) -> str:
    return backend.key(path) + PARTIAL


class GCSWriter(FileWriter):
    def __init__(
        self, backend: GCSBackend, path: str, segments: list[tuple[str, int]], chunksize: int
    ) -> None:
        self._backend = backend
        self._path = path
        self._prefix = partial_prefix(backend, path)
        self._segments = segments  # (key, size), in order
        self._chunksize = chunksize
        self._buffer = bytearray()
        self._done = False

    @classmethod
    async def start(cls, backend: GCSBackend, path: str, chunksize: int) -> GCSWriter:
        """A new writer: an earlier uncommitted one's segments are dropped."""
        prefix = partial_prefix(backend, path)
        await _delete_below(backend, path, prefix)
        await backend.call(path, lambda: backend.blob(prefix + STATE).upload_from_string(b""))
        return cls(backend, path, [], chunksize)

    @classmethod
    async def resume(cls, backend: GCSBackend, path: str, chunksize: int) -> GCSWriter:
        """The uncommitted writer of ``path``; PathNotFound when there is none."""
        prefix = partial_prefix(backend, path)
        found, _ = await backend.call(path, backend.listing, prefix)
        names = {key[len(prefix) :]: size for key, size, _ in found}
        if STATE not in names:
            raise PathNotFound(path, driver=DRIVER)
        segments = sorted(
            (prefix + name, size) for name, size in names.items() if _SEGMENT.fullmatch(name)
        )
        return cls(backend, path, segments, chunksize)

    @property
    def size(self) -> int:
        return sum(size for _, size in self._segments) + len(self._buffer)

    def _check(self) -> None:
        if self._done:
            raise WriterClosed(f"writer for {self._path} is closed", driver=DRIVER)

    async def write(self, data: bytes) -> int:
        self._check()
        self._buffer += data
        while len(self._buffer) >= self._chunksize:
            piece = bytes(self._buffer[: self._chunksize])
            del self._buffer[: self._chunksize]
            await self._store(piece)
        return len(data)

    async def _store(self, piece: bytes) -> None:
        key = f"{self._prefix}s{len(self._segments) + 1:08d}"
        blob = self._backend.blob(key)
        await self._backend.call(self._path, blob.upload_from_string, piece)
        self._segments.append((key, len(piece)))

    async def _flush(self) -> None:
        if self._buffer:
            piece, self._buffer = bytes(self._buffer), bytearray()
            await self._store(piece)

    async def close(self) -> None:
        if self._done:
            return
        await self._flush()
        self._done = True

    async def cancel(self) -> None:
        self._check()
        self._done = True
        self._buffer = bytearray()
        await _delete_below(self._backend, self._path, self._prefix)

    async def commit(self) -> None:
        self._check()
        await self._flush()
        self._done = True
        keys = [key for key, _ in self._segments]
        target = self._backend.key(self._path)
        if len(keys) > COMPONENTS_MAX:
            await self._backend.call(self._path, self._stream_into, keys, target)
        else:
            await self._backend.call(self._path, self._compose, keys, target)
        await _delete_below(self._backend, self._path, self._prefix)

    def _compose(self, keys: list[str], target: str) -> None:
        """Compose ``keys`` into ``target``, 32 at a time (blocking)."""
        bucket = self._backend.bucket
        if not keys:
            bucket.blob(target).upload_from_string(b"")
            return
        sources = [bucket.blob(key) for key in keys]
        step = 0
        while len(sources) > COMPOSE_MAX:
            step += 1
            joined = bucket.blob(f"{self._prefix}c{step:08d}")
            joined.compose(sources[:COMPOSE_MAX])
            sources = [joined, *sources[COMPOSE_MAX:]]
        bucket.blob(target).compose(sources)

    def _stream_into(self, keys: list[str], target: str) -> None:
        """Read every segment and write them as one upload (blocking)."""
        bucket = self._backend.bucket
        with bucket.blob(target, chunk_size=COPY_CHUNK).open("wb") as out:
            for key in keys:
                out.write(bucket.blob(key).download_as_bytes())


async def _delete_below(backend: GCSBackend, path: str, prefix: str) -> None:
    found, _ = await backend.call(path, backend.listing, prefix)
    for key, _size, _time in found:
        with contextlib.suppress(PathNotFound):  # removed meanwhile
            await backend.call(path, backend.blob(key).delete)
