"""Depth-first lexical order from a flat object listing (S3's, GCS's), with directories
synthesised.

A flat (delimiter-less) listing is one request per 1000 keys, far cheaper than one
request per directory, but its order is not the walk order the driver contract asks
for. Walk order compares paths component by component, which is byte order once ``/``
is mapped below every other character. AWS lists in plain byte order, where ``/`` sorts
after ``-`` and ``.``, so ``a/b-c/x`` comes before ``a/b/y`` although the directory
``a/b`` must be walked first; directory-backed servers (SeaweedFS) already list in walk
order. :class:`WalkOrder` accepts either: it holds entries back in a heap only while a
key containing ``-`` or ``.`` leaves room for an earlier-walking path to show up, and
releases them as soon as the listing has moved past that point.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from storage_drivers.base import FileInfo

_COMPONENT = re.compile(r"[A-Za-z0-9._-]+")


def walk_key(relative: str) -> str:
    """Sort key giving walk order: byte order with ``/`` below every path character."""
    return relative.replace("/", "\x00")


def valid_relative(relative: str) -> bool:
    """Whether every component is a legal path component (drops ``~pending``, ``dir/``)."""
    return all(
        _COMPONENT.fullmatch(part) and part not in (".", "..") for part in relative.split("/")
    )


def _bound(relative: str) -> str:
    """Lowest walk key any later key of the listing (or its directories) can have.

    Later keys are greater in byte or walk order; only one that turns ``-``/``.`` at
    position i of ``relative`` into ``/`` can walk earlier, and then not before
    ``relative[:i]`` itself (a directory named like the start of this component).
    """
    for i, char in enumerate(relative):
        if char in "-.":
            return walk_key(relative[:i])
    return walk_key(relative)


class WalkOrder:
    """Feed listing entries in, get ``FileInfo`` out in depth-first lexical order."""

    def __init__(self, base: str) -> None:
        self._base = "" if base == "/" else base
        self._heap: list[tuple[str, int, FileInfo]] = []
        self._counter = itertools.count()
        self._previous_dirs: set[str] = set()
        self.seen = False

    def _push(self, relative: str, info: FileInfo) -> None:
        heapq.heappush(self._heap, (walk_key(relative), next(self._counter), info))

    def add(self, relative: str, size: int, mod_time: datetime) -> list[FileInfo]:
        """Take one listed key (relative to the walked directory); return what is due."""
        if not relative or not valid_relative(relative):
            return []
        self.seen = True
        parts = relative.split("/")
        dirs = ["/".join(parts[:i]) for i in range(1, len(parts))]
        # Keys below one directory are contiguous in the listing, so a directory is new
        # exactly when the previous key was not below it.
        for directory in dirs:
            if directory not in self._previous_dirs:
                self._push(directory, FileInfo(self._path(directory), 0, mod_time, True))
        self._previous_dirs = set(dirs)
        self._push(relative, FileInfo(self._path(relative), size, mod_time, False))
        bound = _bound(relative)
        due = []
        while self._heap and self._heap[0][0] < bound:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def finish(self) -> list[FileInfo]:
        """Everything still held back, in order (the listing is over)."""
        due = [entry[2] for entry in sorted(self._heap)]
        self._heap.clear()
        return due

    def _path(self, relative: str) -> str:
        return f"{self._base}/{relative}"


async def walked(
    path: str,
    prefix: str,
    keys: AsyncIterator[tuple[str, int, datetime | None]],
    stat: Callable[[str], Awaitable[object]],
) -> AsyncIterator[FileInfo]:
    """A driver's ``walk`` of ``path`` from the flat listing ``keys`` (key, size, time) of
    ``prefix``; ``stat`` decides when the listing is empty (a file walks as nothing, a
    missing path raises)."""
    order = WalkOrder(path)
    async for key, size, modified in keys:
        for info in order.add(key[len(prefix) :], size, modified or datetime.now(UTC)):
            yield info
    for info in order.finish():
        yield info
    if not order.seen and path != "/":
        await stat(path)
