"""What the index needs from where it keeps its rows: SQLite on one host, or Redis shared by
several instances. Each method is atomic (one transaction, or one Lua script), which is
what the rules in ``sqlite_store`` and ``docs/index.md`` rely on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pyregistry.index.browse import RepositoryListing, RepositoryQuery

#: A write's effect: ("tag", tag, digest), ("untag", tag), ("manifest", digest, media
#: type, size) or ("unmanifest", digest).
Op = tuple[str, ...]


class IndexUnavailable(Exception):
    """The backend could not answer (being replaced, disk or network trouble)."""


@dataclass(frozen=True, slots=True)
class TagRow:
    tag: str
    digest: str
    media_type: str | None
    pushed_at: float | None


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

    async def media_types(self, name: str) -> dict[str, str]: ...

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

    async def repair_commit(
        self, name: str, generation: int, exists: bool, rows: Sequence[TagRow]
    ) -> bool: ...

    async def claim_build(
        self, token: str, now: float, stale_before: float, force: bool
    ) -> bool: ...

    async def claim_check(self, now: float, lease: float) -> bool: ...

    async def release_check(self) -> None: ...

    async def heartbeat(self, token: str, now: float) -> bool: ...

    async def finish_build(self, token: str) -> bool: ...

    async def close(self) -> None: ...
