"""Writers: uncommitted blocks staged on the path's own blob, committed as one block list.

Azure keeps a blob's staged (uncommitted) blocks invisible, beside whatever content the
blob has, until a block list is committed, atomically; so a writer stages its pieces
where they will land and any process resumes it by asking for the uncommitted blocks. A
small marker blob ``<name>~partial`` holds the writer's generation, which every block id
starts with: a new writer for the path gets a new one, so blocks an abandoned writer
staged are never committed (Azure drops uncommitted blocks at the next commit, or after
a week).
"""

from __future__ import annotations

import base64
import contextlib
import secrets

from storage_drivers.azure.backend import AzureStore
from storage_drivers.azure.parameters import DRIVER
from storage_drivers.errors import PathNotFound
from storage_drivers.object_store import BufferedWriter

MARKER = "~partial"


def _block_id(generation: str, number: int) -> str:
    return base64.b64encode(f"{generation}{number:08d}".encode()).decode()


def _number(generation: str, block_id: str) -> int | None:
    try:
        raw = base64.b64decode(block_id).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not raw.startswith(generation) or not raw[len(generation) :].isdigit():
        return None
    return int(raw[len(generation) :])


class AzureWriter(BufferedWriter):
    driver = DRIVER

    def __init__(
        self, store: AzureStore, path: str, generation: str, stored: list[int], chunksize: int
    ) -> None:
        super().__init__(path, stored, chunksize)
        self._azure = store
        self._name = store.key(path)
        self._generation = generation

    @classmethod
    async def start(cls, store: AzureStore, path: str, chunksize: int) -> AzureWriter:
        generation = secrets.token_hex(4)
        marker = store.key(path) + MARKER
        await store.call(path, store.put, marker, generation.encode())
        return cls(store, path, generation, [], chunksize)

    @classmethod
    async def resume(cls, store: AzureStore, path: str, chunksize: int) -> AzureWriter:
        """The uncommitted writer of ``path``; PathNotFound when there is none."""
        name = store.key(path)
        generation = (await store.call(path, store.get, name + MARKER)).decode()
        try:
            _, uncommitted = await store.call(path, store.blob(name).get_block_list, "uncommitted")
        except PathNotFound:
            uncommitted = []  # nothing staged yet
        found = []
        for block in uncommitted:
            number = _number(generation, block.id)
            if number is not None:
                found.append((number, int(block.size)))
        return cls(store, path, generation, [size for _, size in sorted(found)], chunksize)

    async def _store(self, piece: bytes) -> None:
        block_id = _block_id(self._generation, self.pieces + 1)
        blob = self._azure.blob(self._name)
        await self._azure.call(self.path, blob.stage_block, block_id, piece, len(piece))

    async def _complete(self) -> None:
        if self.pieces:
            block = self._azure.sdk.BlobBlock
            ids = [block(_block_id(self._generation, n)) for n in range(1, self.pieces + 1)]
            blob = self._azure.blob(self._name)
            await self._azure.call(self.path, blob.commit_block_list, ids)
        else:
            await self._azure.call(self.path, self._azure.put, self._name, b"")
        await self._discard()

    async def _discard(self) -> None:
        with contextlib.suppress(PathNotFound):
            await self._azure.call(self.path, self._azure.remove, self._name + MARKER)
