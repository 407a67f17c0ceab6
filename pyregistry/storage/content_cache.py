"""An in-process cache of small content-addressed bytes (manifest content, by digest).

Content under a digest never changes, so it can be kept in memory without asking storage
again; only what *names* a digest (tag and revision links) is mutable, and that is never
cached here: every manifest GET still reads its revision link, so a manifest deleted
through another instance is unknown at once everywhere. Entries are verified against
their digest before they are kept, bounded in size, and evicted least recently used.
"""

from __future__ import annotations

from collections import OrderedDict

from pyregistry.storage.digest import Digest

#: Content larger than this is not cached (manifests are rarely above a few KiB).
MAX_ENTRY_BYTES = 256 * 1024
#: Total bytes kept per process.
MAX_TOTAL_BYTES = 16 * 1024 * 1024


class ContentCache:
    """A bounded LRU of ``digest -> content`` for immutable, content-addressed data."""

    def __init__(
        self, max_total_bytes: int = MAX_TOTAL_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES
    ) -> None:
        self.max_total_bytes = max_total_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_total_bytes)
        self._entries: OrderedDict[Digest, bytes] = OrderedDict()
        self._total = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        return self._total

    def get(self, digest: Digest) -> bytes | None:
        content = self._entries.get(digest)
        if content is not None:
            self._entries.move_to_end(digest)
        return content

    def put(self, digest: Digest, content: bytes) -> None:
        """Keep ``content`` if it is small and really hashes to ``digest``."""
        if len(content) > self.max_entry_bytes or digest in self._entries:
            return
        if Digest.from_bytes(content, digest.algorithm) != digest:
            return  # never let a torn or foreign read stand for the digest
        content = bytes(content)
        self._entries[digest] = content
        self._total += len(content)
        while self._total > self.max_total_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._total -= len(evicted)

    def discard(self, digest: Digest) -> None:
        content = self._entries.pop(digest, None)
        if content is not None:
            self._total -= len(content)
