"""One write as the index sees it: an intent before storage is touched, an outcome after.

If the intent cannot be recorded (Redis down, disk trouble), the write goes on and is
owed: this process answers from storage and marks the repository dirty as soon as the
index is back (``IndexService.owe``). If the outcome never arrives (the process dies, the
backend fails), the intent stays behind and the repository is answered from storage
until a repair, after ``STALE_INTENT_AFTER``, replaces its rows with a scan. If the
database was replaced while the write ran, the new one does not know its intent, so the
repository is marked dirty.
"""

from __future__ import annotations

import logging
import secrets
import time
from types import TracebackType
from typing import TYPE_CHECKING

from pyregistry.index.backend import IndexUnavailable, Op, encode_blobs
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import RegistryError
from pyregistry.storage.metadata import BlobSizes

if TYPE_CHECKING:
    from pyregistry.index.service import IndexService

log = logging.getLogger("pyregistry.index")


class RecordedChange:
    """``async with index.change(repository) as change:`` around a storage write."""

    def __init__(self, index: IndexService, repository: str, contents: bool) -> None:
        self._index = index
        self.repository = repository
        self.contents = contents
        self.ops: list[Op] = []
        self._token: str | None = None
        self._present = False
        #: A manifest was stored whose blobs were not told: its effect is left to a repair.
        self._unknown = False

    def tagged(self, tag: str, digest: Digest) -> None:
        self.ops.append(("tag", tag, str(digest)))

    def untagged(self, tag: str) -> None:
        self.ops.append(("untag", tag))

    def manifest_stored(
        self, digest: Digest, media_type: str, size: int, blobs: BlobSizes | None = None
    ) -> None:
        if blobs is None:
            self._unknown = True  # its size is unknown here: the repository gets a repair
            return
        self.ops.append(("manifest", str(digest), media_type, str(size), encode_blobs(blobs)))

    def manifest_deleted(self, digest: Digest) -> None:
        self.ops.append(("unmanifest", str(digest)))

    async def __aenter__(self) -> RecordedChange:
        name = self.repository
        if self._index.owing:  # known to be unavailable: do not wait on it per write
            self._index.owe(name, "")
            return self
        if not self.contents:
            try:
                if await self._index.backend.present(name):
                    return self  # it can only make the repository appear, and it has
            except IndexUnavailable:
                pass
        now, token = time.time(), secrets.token_hex(12)
        for attempt in range(2):  # a replaced SQLite file answers the second time
            try:
                self._present = await self._index.backend.begin(name, token, now)
                self._token = token
                return self
            except IndexUnavailable as exc:
                if attempt:
                    # Index trouble never fails a write: it is owed to the index instead.
                    self._index.owe(name, str(exc))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is None:
            return
        name, token, now = self.repository, self._token, time.time()
        ops = self.ops if exc is None and not self._unknown else None
        exists: bool | None = None
        if not self._present:
            try:
                exists = await self._index.registry.repository(name).exists()
            except RegistryError:
                exists = None
        try:
            # In a database that replaced ours meanwhile the token is unknown: that marks
            # the repository dirty there.
            await self._index.backend.finish(name, token, ops, exists, now)
        except IndexUnavailable as error:
            # The intent stays: the repository is answered from storage until repaired.
            log.warning("metadata index missed a write to %s (%s); storage answers", name, error)
