"""Both ends of a copy behind one interface: this registry (its namespace) or another one
(over :mod:`pyregistry.client`), so push and pull share one copier.

Names here are the endpoint's own repository names. Reads of what is missing answer None
or an empty list; every other failure raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pyregistry.client import Manifest
from pyregistry.client.sources import ChunkReader

#: Blob readers are made per blob: ``(repository, digest, size)`` -> chunk reader.
ReaderFactory = Callable[[str, str, int], ChunkReader]


class Endpoint(Protocol):
    """A registry replication reads from or writes to."""

    label: str

    async def get_manifest(self, repository: str, reference: str) -> Manifest | None: ...

    async def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest ``reference`` names now (a HEAD), None when unknown."""
        ...

    async def blob_size(self, repository: str, digest: str) -> int | None: ...

    def blob_reader(self, repository: str, digest: str, size: int) -> ChunkReader: ...

    async def put_blob(
        self, repository: str, digest: str, size: int, read: ChunkReader, mount_from: str | None
    ) -> None: ...

    async def forget_upload(self, repository: str, digest: str, size: int) -> None:
        """Drop what is kept to resume an upload of ``digest`` (it is there, or given up)."""
        ...

    async def put_manifest(
        self, repository: str, reference: str, content: bytes, media_type: str
    ) -> None: ...

    async def delete(self, repository: str, reference: str) -> bool:
        """Delete a manifest (by digest) or untag (by tag); False when the endpoint cannot."""
        ...

    async def tags(self, repository: str) -> list[str]: ...

    async def repositories(self) -> list[str]: ...

    async def referrers(self, repository: str, digest: str) -> list[dict[str, Any]]: ...
