"""Blob descriptor caches: answer "is this blob here, how big" without a storage round trip.

Entries are scoped by repository (``repo`` set: the blob is linked there) or global
(``repo`` None: the blob is in the blob store). The Registry fills the cache when it
learns a blob exists and invalidates entries when a link or blob is deleted.

A link is mutable, and several worker processes each keep their own in-memory cache, so
a delete in one must reach the others before it is answered. Every in-memory cache reads
a :class:`Generation` counter before each lookup; a delete bumps it, and a cache that
sees a value it did not expect forgets everything it holds. Deletes are rare and
lookups frequent, so this costs one memory read per lookup and a refill after a delete.
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


class Generation(Protocol):
    """A counter shared by every process whose caches must agree (one host's workers)."""

    def value(self) -> int: ...

    def bump(self) -> int:
        """Add one and return the new value (atomically across the sharing processes)."""
        ...


class LocalGeneration:
    """The counter of a process that shares its storage with no other worker."""

    def __init__(self) -> None:
        self._value = 0

    def value(self) -> int:
        return self._value

    def bump(self) -> int:
        self._value += 1
        return self._value


class InMemoryBlobDescriptorCache:
    """A bounded LRU in this process's memory (distribution's ``blobdescriptor: inmemory``).

    Unlike distribution's, a delete through any process sharing ``generation`` empties it.
    """

    def __init__(
        self, size: int = DEFAULT_CACHE_SIZE, generation: Generation | None = None
    ) -> None:
        if size <= 0:
            raise ValueError("cache size must be positive")
        self.size = size
        self.generation: Generation = generation if generation is not None else LocalGeneration()
        self._seen = self.generation.value()
        self._entries: OrderedDict[tuple[str | None, Digest], BlobDescriptor] = OrderedDict()
        #: the generation at each recent miss, so that a late fill can be refused
        self._misses: OrderedDict[tuple[str | None, Digest], int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _sync(self) -> None:
        """Forget everything if another process deleted something since the last look."""
        current = self.generation.value()
        if current != self._seen:
            self._entries.clear()
            self._seen = current

    async def get(self, repo: str | None, digest: Digest) -> BlobDescriptor | None:
        self._sync()
        key = (repo, digest)
        descriptor = self._entries.get(key)
        if descriptor is not None:
            self._entries.move_to_end(key)
        else:
            self._misses[key] = self._seen
            while len(self._misses) > self.size:
                self._misses.popitem(last=False)
        return descriptor

    async def set(self, repo: str | None, descriptor: BlobDescriptor) -> None:
        """Keep ``descriptor`` unless a delete happened since storage was asked for it.

        The caller read storage after its missed :meth:`get`; a delete bumped in between
        (even one another request of this process already noticed) may have removed
        what it read, so the answer is not kept.
        """
        key = (repo, descriptor.digest)
        asked_at = self._misses.pop(key, self._seen)
        self._sync()
        if asked_at != self._seen:
            return
        self._entries[key] = descriptor
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def delete(self, repo: str | None, digest: Digest) -> None:
        """Forget the entry here, then tell every other process (after storage changed)."""
        self._sync()
        self._entries.pop((repo, digest), None)
        if repo is None:
            # the blob itself is gone: every repository's entry for it is stale too
            for key in [key for key in self._entries if key[1] == digest]:
                del self._entries[key]
        seen, self._seen = self._seen, self.generation.bump()
        if self._seen != seen + 1:
            self._entries.clear()  # another process bumped it meanwhile: its delete counts too
        # fills of misses from before this delete are refused (their generation is older)
