"""Read-only questions a browser asks of the index: repositories with their tag counts,
sizes and last push, searched, sorted and paged, and one repository's tags with digest,
media type and push time (newest first).

These answers are for people (the management API and the web UI), not for the
``/v2/`` listings, whose exactness rules (``docs/index.md``) are stricter: a repository
with a write in flight or awaiting a repair still shows here, with the counts the index
holds. A backend that has no complete build yet answers None (callers then say so, or
list storage for small registries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Orders a repository listing may take.
SORT_KEYS = ("name", "tags", "size", "pushed")


@dataclass(frozen=True, slots=True)
class RepositoryRow:
    name: str
    tag_count: int
    #: When a tag of it was last pushed (Unix time; None: unknown, e.g. no tags).
    pushed_at: float | None
    #: Bytes of the distinct blobs its manifests reference, themselves included
    #: (``sqlite_sizes``); None: unknown (listed from storage, not the index).
    size: int | None = None
    #: The index knows its row is wrong (a write it could not follow): a repair is owed.
    dirty: bool = False


@dataclass(frozen=True, slots=True)
class RepositoryListing:
    rows: list[RepositoryRow]
    #: How many repositories match, over all pages.
    total: int


@dataclass(frozen=True, slots=True)
class RepositoryQuery:
    """``contains``: a substring of the name; ``projects``: only these (None: all);
    ``name``: only this repository."""

    contains: str | None = None
    name: str | None = None
    projects: Sequence[str] | None = None
    sort: str = "name"
    descending: bool = False
    offset: int = 0
    limit: int = 50

    def matches(self, name: str) -> bool:
        if self.name is not None and name != self.name:
            return False
        if self.contains and self.contains not in name:
            return False
        return self.projects is None or name.split("/", 1)[0] in self.projects


def order_rows(rows: list[RepositoryRow], query: RepositoryQuery) -> RepositoryListing:
    """Filter, sort and page rows in memory (backends without a query language)."""
    chosen = [row for row in rows if query.matches(row.name)]
    if query.sort == "tags":
        chosen.sort(key=lambda r: (r.tag_count, r.name.replace("/", "\x00")))
    elif query.sort == "size":
        chosen.sort(key=lambda r: (r.size or 0, r.name.replace("/", "\x00")))
    elif query.sort == "pushed":
        chosen.sort(key=lambda r: (r.pushed_at or 0.0, r.name.replace("/", "\x00")))
    else:
        chosen.sort(key=lambda r: r.name.replace("/", "\x00"))
    if query.descending:
        chosen.reverse()
    return RepositoryListing(chosen[query.offset : query.offset + query.limit], len(chosen))
