"""Copy an image from one endpoint to another, completely and only once.

A manifest is copied byte for byte (so its digest is the same on both sides), after
everything it refers to: an index's children (recursively), a manifest's config and
layers. A manifest the destination already has under that digest is not sent again,
which also ends any loop (a change coming back finds itself there). A blob is HEADed
first; when this copier has seen it in another repository of the destination it is
mounted from there, else streamed. Referrers (signatures, SBOMs: manifests whose
``subject`` is this one) follow their subject. Blob transfers to one destination share a
semaphore: the target's concurrency bound, across every policy using it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pyregistry.client import Manifest
from pyregistry.replication.endpoint import Endpoint
from pyregistry.replication.tally import Tally

#: How many (digest -> destination repository) facts are remembered for mounts.
MOUNT_MEMORY = 10_000


class BlobLocations:
    """Where blobs were last seen at one destination: the ``from`` of a mount; and which
    blobs are on their way there now, so two repositories sending one blob at once send
    it once and mount it for the second."""

    def __init__(self, limit: int = MOUNT_MEMORY) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._claims: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def claim(self, digest: str) -> AsyncIterator[None]:
        """Hold ``digest`` while it is checked and sent (waiters then find it there)."""
        lock, users = self._claims.get(digest, (asyncio.Lock(), 0))
        self._claims[digest] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._claims[digest]
            if users <= 1:
                del self._claims[digest]
            else:
                self._claims[digest] = (lock, users - 1)

    def other(self, digest: str, repository: str) -> str | None:
        where = self._seen.get(digest)
        return where if where is not None and where != repository else None

    def saw(self, digest: str, repository: str) -> None:
        self._seen[digest] = repository
        self._seen.move_to_end(digest)
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)


def _children(document: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(child manifests, blobs) a manifest refers to."""
    if not isinstance(document, dict):
        return [], []
    manifests = [d for d in document.get("manifests") or [] if isinstance(d, dict)]
    blobs = [d for d in [document.get("config"), *(document.get("layers") or [])] if d]
    return manifests, [d for d in blobs if isinstance(d, dict) and not d.get("urls")]


class Copier:
    """Copies between ``source`` and ``destination`` for one execution (``tally``)."""

    def __init__(
        self,
        source: Endpoint,
        destination: Endpoint,
        tally: Tally,
        *,
        limit: asyncio.Semaphore,
        locations: BlobLocations,
        referrers: bool = True,
    ) -> None:
        self.source = source
        self.destination = destination
        self.tally = tally
        self.limit = limit
        self.locations = locations
        self.referrers = referrers
        self._done: set[tuple[str, str]] = set()
        #: (destination repository, digest, size) of uploads that failed part-way: the
        #: push worker forgets their resume points once their change is done with
        self.unfinished: set[tuple[str, str, int]] = set()

    async def copy(
        self, source_repo: str, destination_repo: str, reference: str, tags: Sequence[str] = ()
    ) -> bool:
        """Copy ``reference`` (a tag or digest) and point ``tags`` at it; False when the
        source no longer has it (deleted meanwhile: nothing to copy)."""
        manifest = await self.source.get_manifest(source_repo, reference)
        if manifest is None:
            return False
        tags = list(tags) or ([] if ":" in reference else [reference])
        await self._manifest(source_repo, destination_repo, manifest, tags)
        return True

    async def _manifest(
        self, source_repo: str, destination_repo: str, manifest: Manifest, tags: Sequence[str]
    ) -> None:
        key = (destination_repo, manifest.digest)
        dest, repo = self.destination, destination_repo
        content, media_type = manifest.content, manifest.media_type
        if key in self._done or await dest.manifest_digest(repo, manifest.digest):
            missing = [t for t in tags if await dest.manifest_digest(repo, t) != manifest.digest]
            for tag in missing:
                await dest.put_manifest(repo, tag, content, media_type)
            if missing:
                self.tally.copy(len(manifest.content))
            elif key not in self._done:
                self.tally.skip()
            self._done.add(key)
            await self._referrers(source_repo, destination_repo, manifest.digest)
            return
        document = json.loads(manifest.content)
        children, blobs = _children(document)
        for child in children:
            await self._child(source_repo, destination_repo, str(child.get("digest", "")))
        await asyncio.gather(*(self._blob(source_repo, destination_repo, b) for b in blobs))
        for reference in tags or [manifest.digest]:
            await dest.put_manifest(repo, reference, content, media_type)
        self._done.add(key)
        self.tally.copy(len(manifest.content))
        await self._referrers(source_repo, destination_repo, manifest.digest)

    async def _child(self, source_repo: str, destination_repo: str, digest: str) -> None:
        child = await self.source.get_manifest(source_repo, digest)
        if child is None:
            raise LookupError(f"{source_repo}@{digest}: a child manifest is missing at the source")
        await self._manifest(source_repo, destination_repo, child, [])

    async def _blob(self, source_repo: str, destination_repo: str, desc: dict[str, Any]) -> None:
        digest = str(desc.get("digest", ""))
        async with self.locations.claim(digest), self.limit:
            present = await self.destination.blob_size(destination_repo, digest)
            if present is not None:
                self.locations.saw(digest, destination_repo)
                self.tally.skip(present)
                await self.destination.forget_upload(destination_repo, digest, present)
                return
            actual = await self.source.blob_size(source_repo, digest)
            if actual is None:
                raise LookupError(f"{source_repo}@{digest}: a blob is missing at the source")
            reader = self.source.blob_reader(source_repo, digest, actual)
            mount_from = self.locations.other(digest, destination_repo)
            try:
                await self.destination.put_blob(
                    destination_repo, digest, actual, reader, mount_from
                )
            except BaseException:
                self.unfinished.add((destination_repo, digest, actual))
                raise
            self.locations.saw(digest, destination_repo)
            self.tally.copy(actual if mount_from is None else 0)

    async def _referrers(self, source_repo: str, destination_repo: str, digest: str) -> None:
        if not self.referrers:
            return
        for desc in await self.source.referrers(source_repo, digest):
            referrer = str(desc.get("digest", ""))
            if referrer and (destination_repo, referrer) not in self._done:
                await self._child(source_repo, destination_repo, referrer)

    async def delete(self, destination_repo: str, reference: str) -> None:
        """Delete a manifest (digest) or a tag at the destination, if it is there."""
        if await self.destination.manifest_digest(destination_repo, reference) is None:
            self.tally.skip()
            return
        if await self.destination.delete(destination_repo, reference):
            self.tally.delete()
        else:
            self.tally.skip()
