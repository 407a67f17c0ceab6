"""The storage layer's side of a metadata index: what it tells one, and what it asks one.

Storage stays the source of truth. An index (``pyregistry.index``) only answers listings
faster, so the contract is built around never letting it answer wrongly:

* every write that can change a listing runs inside ``index.change(repository)``: the
  index records the intent *before* the driver is touched and the outcome after, so a
  write that reached storage but never reported back (a crash, a failed index update)
  leaves the repository marked, and the index answers from storage until it is repaired;
* a listing asks the index first; ``None`` means "not known-good, ask storage", and the
  storage layer then lists storage exactly as it would without an index.

``contents=False`` marks writes that can only make a repository appear (upload sessions,
blob links); they cost nothing once the index knows the repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from pyregistry.storage.digest import Digest

if TYPE_CHECKING:
    from pyregistry.storage.registry import Registry


#: (digest, size) of each blob a manifest references (``ParsedManifest.stored_blobs``).
BlobSizes = Sequence[tuple[Digest, int]]


@dataclass(frozen=True, slots=True)
class TagPage:
    """One page of a repository's tags, and how many tags it has in all (0: storage then
    decides whether the repository exists at all)."""

    tags: list[str]
    total: int


class IndexChange(Protocol):
    """What one committed write did, told to the index before it leaves the change."""

    def tagged(self, tag: str, digest: Digest) -> None: ...

    def untagged(self, tag: str) -> None: ...

    def manifest_stored(
        self, digest: Digest, media_type: str, size: int, blobs: BlobSizes | None = None
    ) -> None:
        """``blobs``: (digest, size) of the blobs it references (``stored_blobs``);
        None: not known, the index then reads the manifest back from storage."""

    def manifest_deleted(self, digest: Digest) -> None: ...


class MetadataIndex(Protocol):
    """An index of repositories and tags derived from storage (see the module docstring)."""

    def attach(self, registry: Registry) -> None:
        """The registry whose storage is the truth (for repairs and rebuilds)."""

    def change(
        self, repository: str, *, contents: bool = True
    ) -> AbstractAsyncContextManager[IndexChange]: ...

    async def catalog(self, n: int | None, last: str | None) -> list[str] | None: ...

    async def tags(self, repository: str, n: int | None, last: str | None) -> TagPage | None: ...

    async def close(self) -> None: ...


class NoChange:
    """The change used when no index is configured: records nothing, costs nothing."""

    def tagged(self, tag: str, digest: Digest) -> None:
        pass

    def untagged(self, tag: str) -> None:
        pass

    def manifest_stored(
        self, digest: Digest, media_type: str, size: int, blobs: BlobSizes | None = None
    ) -> None:
        pass

    def manifest_deleted(self, digest: Digest) -> None:
        pass

    async def __aenter__(self) -> NoChange:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


NO_CHANGE = NoChange()
