"""Writers: uncommitted data as numbered segment objects beside the path, composed into
the path's object on commit.

GCS objects are immutable and a resumable upload session lives in one process's memory,
so a writer keeps its pieces as objects of its own under ``<name>~partial/``: a
``state`` marker (the writer exists, even empty) and ``s<n>`` segments. Any process
resumes a writer by listing them (``append``). ``commit`` composes the segments into the
path's object (GCS's compose: up to 32 sources a call, chained through intermediates;
atomic, nothing is copied through the registry) and removes the rest; past GCS's 1,024
components an object cannot be composed, so such a writer's segments are streamed into
one upload instead.
"""

from __future__ import annotations

import contextlib
import re

from storage_drivers.errors import PathNotFound
from storage_drivers.gcs.backend import GCSStore
from storage_drivers.gcs.parameters import DRIVER
from storage_drivers.object_store import BufferedWriter

PARTIAL = "~partial/"
STATE = "state"
#: Sources a compose call takes at most.
COMPOSE_MAX = 32
#: Components a composite object may have at most (GCS's limit).
COMPONENTS_MAX = 1024
#: What a streamed re-upload sends at a time.
COPY_CHUNK = 8 * 1024 * 1024
_SEGMENT = re.compile(r"s(\d{8})")


class GCSWriter(BufferedWriter):
    driver = DRIVER

    def __init__(self, store: GCSStore, path: str, stored: list[int], chunksize: int) -> None:
        super().__init__(path, stored, chunksize)
        self._gcs = store
        self._prefix = store.key(path) + PARTIAL

    @classmethod
    async def start(cls, store: GCSStore, path: str, chunksize: int) -> GCSWriter:
        """A new writer: an earlier uncommitted one's segments are dropped."""
        writer = cls(store, path, [], chunksize)
        await writer._discard()
        await store.call(path, store.put, writer._prefix + STATE, b"")
        return writer

    @classmethod
    async def resume(cls, store: GCSStore, path: str, chunksize: int) -> GCSWriter:
        """The uncommitted writer of ``path``; PathNotFound when there is none."""
        prefix = store.key(path) + PARTIAL
        found, _ = await store.call(path, store.listing, prefix)
        names = {name[len(prefix) :]: size for name, size, _ in found}
        if STATE not in names:
            raise PathNotFound(path, driver=DRIVER)
        sizes = [size for name, size in sorted(names.items()) if _SEGMENT.fullmatch(name)]
        return cls(store, path, sizes, chunksize)

    def _segment(self, number: int) -> str:
        return f"{self._prefix}s{number:08d}"

    async def _store(self, piece: bytes) -> None:
        store = self._gcs
        await store.call(self.path, store.put, self._segment(self.pieces + 1), piece)

    async def _complete(self) -> None:
        keys = [self._segment(n) for n in range(1, self.pieces + 1)]
        target = self._gcs.key(self.path)
        join = self._stream_into if len(keys) > COMPONENTS_MAX else self._compose
        await self._gcs.call(self.path, join, keys, target)
        await self._discard()

    async def _discard(self) -> None:
        store = self._gcs
        found, _ = await store.call(self.path, store.listing, self._prefix)
        for name, _size, _time in found:
            with contextlib.suppress(PathNotFound):  # removed meanwhile
                await store.call(self.path, store.remove, name)

    def _compose(self, keys: list[str], target: str) -> None:
        """Compose ``keys`` into ``target``, 32 at a time (blocking)."""
        store = self._gcs
        if not keys:
            store.put(target, b"")
            return
        sources = [store.blob(key) for key in keys]
        step = 0
        while len(sources) > COMPOSE_MAX:
            step += 1
            joined = store.blob(f"{self._prefix}c{step:08d}")
            joined.compose(sources[:COMPOSE_MAX])
            sources = [joined, *sources[COMPOSE_MAX:]]
        store.blob(target).compose(sources)

    def _stream_into(self, keys: list[str], target: str) -> None:
        """Read every segment and write them as one upload (blocking)."""
        store = self._gcs
        with store.blob(target, chunk_size=COPY_CHUNK).open("wb") as out:
            for key in keys:
                out.write(store.get(key))
