"""Blob descriptor caches: answer "is this blob here, how big" without a storage round trip.

Entries are scoped by repository (``repo`` set: the blob is linked there) or global
(``repo`` None: the blob is in the blob store). The Registry fills the cache when it
learns a blob exists and invalidates repository entries when a link is deleted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol, runtime_checkable

from pyregistry.storage.descriptors import BlobDescriptor
from pyregistry.storage.digest import Digest

DEFAULT_CACHE_SIZE = 10000


@runtime_checkable
class BlobDescriptorCache(Protocol):
    """What the Registry needs from a cache; a Redis implementation plugs in the same way."""

    async def get(self, repo: str | None, digest: Digest) -> BlobDescriptor | None: ...

    async def set(self, repo: str | None, descriptor: BlobDescriptor) -> None: ...

    async def delete(self, repo: str | None, digest: Digest) -> None: ...


class InMemoryBlobDescriptorCache:
    """A bounded LRU in this process's memory (distribution's ``blobdescriptor: inmemory``)."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        if size <= 0:
            raise ValueError("cache size must be positive")
        self.size = size
        self._entries: OrderedDict[tuple[str | None, Digest], BlobDescriptor] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, repo: str | None, digest: Digest) -> BlobDescriptor | None:
        key = (repo, digest)
        descriptor = self._entries.get(key)
        if descriptor is not None:
            self._entries.move_to_end(key)
        return descriptor

    async def set(self, repo: str | None, descriptor: BlobDescriptor) -> None:
        key = (repo, descriptor.digest)
        self._entries[key] = descriptor
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def delete(self, repo: str | None, digest: Digest) -> None:
        self._entries.pop((repo, digest), None)
