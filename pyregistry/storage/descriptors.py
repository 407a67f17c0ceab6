"""What the storage layer hands back to the API: plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.storage.digest import Digest

DEFAULT_BLOB_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class BlobDescriptor:
    """A blob as the registry knows it: its digest and size (media type is not stored)."""

    digest: Digest
    size: int
    media_type: str = DEFAULT_BLOB_MEDIA_TYPE


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """A manifest's exact bytes and the media type to serve them with."""

    digest: Digest
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class PutManifestResult:
    """The digest a manifest was stored under, its subject (for ``OCI-Subject``), and what
    the one parse of the push found (media type, descriptors) for whoever reports it."""

    digest: Digest
    subject: Digest | None
    #: Its own ``mediaType``, else the one it was pushed with (what events report).
    media_type: str | None = None
    size: int = 0
    #: The tags now pointing at it (those named by the push).
    tags: tuple[str, ...] = ()
    #: ``manifests`` of an index, else ``config`` and ``layers``: the raw descriptor objects.
    references: tuple[dict[str, Any], ...] = ()
