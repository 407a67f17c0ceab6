"""The storage layer's contract, as typing Protocols: what the API and every capability use.

Why Protocols and not the concrete classes: a capability that changes what a write does
for everyone (notifications, a metadata index, a pull-through cache) is a *wrapper* that
implements the same Protocol and delegates, as distribution's ``notifications/listener.go``
and ``registry/proxy`` wrap its ``Namespace``/``Repository`` interfaces. Code typed
against these Protocols cannot tell a wrapper from the core, so every path through the
registry gets the same validation and events.

The core implementations live beside this module (:class:`~pyregistry.storage.registry.
Registry`, ``Repository``, ``LinkedBlobStore``, ``BlobStore``, ``UploadStore``,
``UploadSession``, ``ManifestStore``, ``TagStore``). All rules of a manifest push
(references, index children, layer URLs, platforms, media types, size) are checked
behind :meth:`ManifestService.put`, so no caller can skip them.

The enumerators exist for garbage collection and tooling: they walk the store itself,
not an index, so they see exactly what a sweep would delete.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any, Protocol, runtime_checkable

from pyregistry.storage.blob_read import BlobRead
from pyregistry.storage.descriptors import BlobDescriptor, PutManifestResult, StoredManifest
from pyregistry.storage.digest import Digest


@runtime_checkable
class BlobEnumerator(Protocol):
    """Every blob in the global store (for mark-and-sweep: the sweep's candidates)."""

    def enumerate(self) -> AsyncIterator[Digest]: ...


@runtime_checkable
class ManifestEnumerator(Protocol):
    """Every manifest revision of one repository, tagged or not (the mark phase's roots)."""

    def enumerate(self) -> AsyncIterator[Digest]: ...


@runtime_checkable
class RepositoryEnumerator(Protocol):
    """Every repository name, in catalog order, strictly after ``after``."""

    def repositories(self, after: str | None = None) -> AsyncIterator[str]: ...


class GlobalBlobStore(BlobEnumerator, Protocol):
    """The content-addressed store shared by all repositories (GC reads and sweeps it)."""

    async def stat(self, digest: Digest) -> BlobDescriptor | None: ...

    async def open(
        self, digest: Digest, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]: ...

    async def delete(self, digest: Digest) -> None: ...


class BlobService(Protocol):
    """The blobs one repository sees (linked from the global store).

    ``open``/``open_read``/``redirect_url`` are reads a client sees as a pull (events are
    emitted once the bytes are streamed or redirected to);
    ``stat`` is not a pull (HEAD).
    """

    async def stat(self, digest: Digest) -> BlobDescriptor: ...

    async def get(self, digest: Digest) -> bytes: ...

    async def open(
        self, digest: Digest, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]: ...

    async def open_read(self, digest: Digest) -> BlobRead:
        """The descriptor and the bytes of a GET from one call (see :mod:`blob_read`)."""
        ...

    async def redirect_url(self, digest: Digest) -> str | None: ...

    async def put(self, content: bytes, algorithm: str = "sha256") -> BlobDescriptor: ...

    async def delete(self, digest: Digest) -> None: ...

    async def mount(self, digest: Digest, from_repository: str | None) -> BlobDescriptor | None: ...


class BlobUpload(Protocol):
    """One upload session: appended in chunks, committed under a verified digest."""

    @property
    def id(self) -> str: ...

    async def size(self) -> int: ...

    async def append(self, chunks: AsyncIterable[bytes], offset: int | None = None) -> int: ...

    async def commit(
        self,
        digest: Digest,
        chunks: AsyncIterable[bytes] | None = None,
        offset: int | None = None,
    ) -> BlobDescriptor: ...

    async def cancel(self) -> None: ...


class UploadService(Protocol):
    """Starts and finds the upload sessions of one repository."""

    async def create(self) -> BlobUpload: ...

    async def resume(self, upload_id: str) -> BlobUpload: ...


class ManifestService(ManifestEnumerator, Protocol):
    """One repository's manifests by digest; ``put`` owns every validation rule.

    ``tag`` on ``get`` and ``tags`` on ``put`` say which tags the request named (as
    distribution's ``WithTag`` option): ``put`` points them at the manifest once it is
    stored, and both pass them on to events.
    """

    async def get(self, digest: Digest, *, tag: str | None = None) -> StoredManifest: ...

    async def exists(self, digest: Digest) -> bool: ...

    async def put(
        self,
        content: bytes,
        media_type: str | None,
        *,
        digest: Digest | None = None,
        tags: Sequence[str] = (),
    ) -> PutManifestResult: ...

    async def delete(self, digest: Digest) -> None: ...


class TagService(Protocol):
    """One repository's tags: names pointing at manifest digests."""

    async def get(self, tag: str) -> Digest: ...

    async def tag(self, tag: str, digest: Digest) -> None: ...

    async def untag(self, tag: str) -> None: ...

    async def list(self, n: int | None = None, last: str | None = None) -> list[str]: ...

    async def lookup(self, digest: Digest) -> builtins.list[str]: ...


class RepositoryService(Protocol):
    """One repository: its blobs, upload sessions, manifests and tags."""

    @property
    def name(self) -> str: ...

    @property
    def blobs(self) -> BlobService: ...

    @property
    def uploads(self) -> UploadService: ...

    @property
    def manifests(self) -> ManifestService: ...

    @property
    def tags(self) -> TagService: ...

    async def exists(self) -> bool: ...

    async def referrers(
        self, subject: Digest, artifact_type: str | None = None
    ) -> list[dict[str, Any]]: ...


class Namespace(RepositoryEnumerator, Protocol):
    """The registry as a whole (distribution's ``Namespace``): repositories by name, the
    catalog, the global blob store, and the switches the API must answer for."""

    @property
    def readonly(self) -> bool: ...

    @property
    def delete_enabled(self) -> bool: ...

    @property
    def min_chunk_size(self) -> int:
        """The smallest chunk the backend takes in a chunked upload (0: any)."""
        ...

    @property
    def blob_store(self) -> GlobalBlobStore: ...

    def repository(self, name: str) -> RepositoryService: ...

    async def catalog(self, n: int | None = None, last: str | None = None) -> list[str]: ...

    async def purge_uploads(self, older_than_seconds: float, dry_run: bool = False) -> int: ...

    async def close(self) -> None: ...
