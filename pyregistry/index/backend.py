"""What the index needs from where it keeps its rows: SQLite on one host, or Redis shared by
several instances. Each method is atomic (one transaction, or one Lua script), which is
what the rules in ``sqlite_store`` and ``docs/index.md`` rely on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pyregistry.index.browse import RepositoryListing, RepositoryQuery

#: A write's effect: ("tag", tag, digest), ("untag", tag), ("manifest", digest, media
#: type, size, blobs) or ("unmanifest", digest). ``blobs`` lists the blobs the manifest
#: references as "digest size digest size ..." (see ``encode_blobs``).
Op = tuple[str, ...]

#: Bumped whenever rows an older pyregistry wrote would be wrong here: an index whose
#: ``schema`` differs is not ready, so it is rebuilt (never trusted). 2: blob sizes.
SCHEMA_VERSION = "2"


#: A blob counts at most this many bytes: a manifest may declare any size, and a lie must
#: not overflow a repository's 64-bit total (nor Lua's exact integers, up to 2**53).
MAX_COUNTED_BLOB = 2**40


def counted(size: int) -> int:
    return min(max(size, 0), MAX_COUNTED_BLOB)


def encode_blobs(blobs: Iterable[tuple[object, int]]) -> str:
    return " ".join(f"{digest} {counted(size)}" for digest, size in blobs)


def decode_blobs(text: str) -> list[tuple[str, int]]:
    parts = text.split()
    return [(parts[i], int(parts[i + 1])) for i in range(0, len(parts) - 1, 2)]


class IndexUnavailable(Exception):
    """The backend could not answer (being replaced, disk or network trouble)."""


@dataclass(frozen=True, slots=True)
class TagRow:
    tag: str
    digest: str
    media_type: str | None
    pushed_at: float | None


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """A manifest of a repository and the blobs that make up its size: itself (its own
    bytes) and what it references (``stored_blobs``), each (digest, size)."""

    digest: str
    media_type: str
    blobs: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class RepositoryScan:
    """A repository as storage has it (``scan``): what a repair commits."""

    exists: bool
    tags: list[TagRow]
    manifests: list[ManifestRow]


@dataclass(frozen=True, slots=True)
class TagsAnswer:
    """``state``: "ok" (``tags``/``total`` are right), "busy" (a write is in flight),
    "stale" (needs a repair), "unknown" (no repository it knows of: storage decides) or
    "unready" (no complete build yet)."""

    state: str
    tags: list[str]
    total: int


class Backend(Protocol):
    """Rows of the index; every method raises IndexUnavailable when it cannot answer."""

    location: str

    async def ready(self) -> bool: ...

    async def present(self, name: str) -> bool: ...

    async def read_tags(
        self, name: str, n: int | None, last: str | None, stale_before: float
    ) -> TagsAnswer: ...

    async def read_catalog(
        self, n: int | None, last: str | None
    ) -> tuple[list[str], list[str]] | None: ...

    async def manifest_rows(self, name: str) -> dict[str, ManifestRow]:
        """The manifests it holds for ``name`` (a repair reads only the others)."""
        ...

    async def list_repositories(self, query: RepositoryQuery) -> RepositoryListing | None:
        """A page of repositories for people (``browse``); None: no complete build."""
        ...

    async def tag_rows(self, name: str) -> list[TagRow] | None:
        """A repository's tags, newest push first; None: the index cannot say."""
        ...

    async def begin(self, name: str, token: str, now: float) -> bool: ...

    async def finish(
        self, name: str, token: str, ops: Sequence[Op] | None, exists: bool | None, now: float
    ) -> None: ...

    async def mark_dirty(self, names: Sequence[str]) -> None: ...

    async def mark_present(self, names: Sequence[str]) -> None: ...

    async def repair_start(self, name: str, stale_before: float) -> int | None: ...

    async def repair_commit(self, name: str, generation: int, scan: RepositoryScan) -> bool: ...

    async def claim_build(
        self, token: str, now: float, stale_before: float, force: bool
    ) -> bool: ...

    async def claim_check(self, now: float, lease: float) -> bool: ...

    async def release_check(self) -> None: ...

    async def heartbeat(self, token: str, now: float) -> bool: ...

    async def finish_build(self, token: str) -> bool: ...

    async def close(self) -> None: ...
