"""The index in a SQLite file on this host (the default), shared by its worker processes.

Writes of a process run on one thread of its own, so the event loop never waits on a lock
another process holds. Reads run on the loop itself, on a second connection that never
waits for a lock, while they answer fast (an :class:`~storage_drivers.inline_gate.InlineGate`
watches them): a read in WAL mode takes microseconds, handing it to the thread took more
CPU than the read (a sixth of a small push's CPU). A read that would wait (a writer
checkpointing, a database being replaced) goes to the thread like a write.
A database that turns out not to be one (corrupt, overwritten) is replaced by a fresh,
unready one under a new name (see ``files``), which is then built in the background.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pyregistry.index import sqlite_browse
from pyregistry.index.backend import (
    IndexUnavailable,
    ManifestRow,
    Op,
    RepositoryScan,
    TagRow,
    TagsAnswer,
)
from pyregistry.index.browse import RepositoryListing, RepositoryQuery
from pyregistry.index.files import IndexFile
from pyregistry.index.sqlite_store import IndexStore
from storage_drivers.inline_gate import InlineGate

T = TypeVar("T")
log = logging.getLogger("pyregistry.index")


class SqliteBackend:
    """The index's rows in ``directory`` (see ``pyregistry.index.files`` for its layout)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.location = directory
        self._file = IndexFile(directory)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pyregistry-index")
        self._closed = False
        #: The loop's own connection (busy timeout 0: it never waits), on one thread.
        self._loop_file = IndexFile(directory, busy_ms=0, create=False)
        self._loop_thread: int | None = None
        self.inline = InlineGate()

    def _call(self, operation: Callable[[IndexStore], T]) -> T:
        try:
            if not self._file.valid():
                self._file.open()
            assert self._file.store is not None
            return operation(self._file.store)
        except sqlite3.OperationalError as exc:  # busy, I/O: try again next time
            raise IndexUnavailable(str(exc)) from exc
        except sqlite3.DatabaseError as exc:  # not a database, malformed: replace it
            log.warning("metadata index unreadable (%s): replacing it", exc)
            try:
                self._file.open(replace=True)
            except (OSError, sqlite3.Error) as again:
                log.error("metadata index cannot be replaced: %s", again)
            raise IndexUnavailable(str(exc)) from exc
        except OSError as exc:
            raise IndexUnavailable(str(exc)) from exc

    def _read_inline(self, operation: Callable[[IndexStore], T]) -> list[T]:
        """[answer] if the loop's connection answered at once, else []."""
        thread = threading.get_ident()
        if self._loop_thread is None:
            self._loop_thread = thread
        elif thread != self._loop_thread:
            return []  # another loop in another thread: the pool serves it
        mark = self.inline.start()
        try:
            if not self._loop_file.valid():
                self._loop_file.open()
            assert self._loop_file.store is not None
            return [operation(self._loop_file.store)]
        except (sqlite3.Error, OSError):
            self._loop_file.close()  # the pool's connection deals with it, and reports
            return []
        finally:
            self.inline.took(mark)

    async def _read(self, operation: Callable[[IndexStore], T]) -> T:
        """A read: on the loop while that is fast and safe, else like a write."""
        if not self._closed and self.inline.open():
            answered = self._read_inline(operation)
            if answered:
                return answered[0]
        return await self._run(operation)

    async def _run(self, operation: Callable[[IndexStore], T]) -> T:
        if self._closed:
            raise IndexUnavailable("the index is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, operation)

    async def ready(self) -> bool:
        return await self._read(lambda s: s.ready())

    async def present(self, name: str) -> bool:
        return await self._read(lambda s: s.present(name))

    async def read_tags(
        self, name: str, n: int | None, last: str | None, stale_before: float
    ) -> TagsAnswer:
        return await self._read(lambda s: s.read_tags(name, n, last, stale_before))

    async def read_catalog(
        self, n: int | None, last: str | None
    ) -> tuple[list[str], list[str]] | None:
        return await self._read(lambda s: s.read_catalog(n, last))

    async def manifest_rows(self, name: str) -> dict[str, ManifestRow]:
        return await self._read(lambda s: s.manifest_rows(name))

    async def list_repositories(self, query: RepositoryQuery) -> RepositoryListing | None:
        return await self._run(lambda s: sqlite_browse.list_repositories(s.db, query))

    async def tag_rows(self, name: str) -> list[TagRow] | None:
        return await self._run(lambda s: sqlite_browse.tag_rows(s.db, name))

    async def begin(self, name: str, token: str, now: float) -> bool:
        return await self._run(lambda s: s.begin(name, token, now))

    async def finish(
        self, name: str, token: str, ops: Sequence[Op] | None, exists: bool | None, now: float
    ) -> None:
        await self._run(lambda s: s.finish(name, token, ops, exists, now))

    async def mark_dirty(self, names: Sequence[str]) -> None:
        await self._run(lambda s: s.mark_dirty(names))

    async def mark_present(self, names: Sequence[str]) -> None:
        await self._run(lambda s: s.mark_present(names))

    async def repair_start(self, name: str, stale_before: float) -> int | None:
        return await self._run(lambda s: s.repair_start(name, stale_before))

    async def repair_commit(self, name: str, generation: int, scan: RepositoryScan) -> bool:
        return await self._run(lambda s: s.repair_commit(name, generation, scan))

    async def claim_build(self, token: str, now: float, stale_before: float, force: bool) -> bool:
        return await self._run(lambda s: s.claim_build(token, now, stale_before, force))

    async def claim_check(self, now: float, lease: float) -> bool:
        return await self._run(lambda s: s.claim_check(now, lease))

    async def release_check(self) -> None:
        await self._run(lambda s: s.release_check())

    async def heartbeat(self, token: str, now: float) -> bool:
        return await self._run(lambda s: s.heartbeat(token, now))

    async def finish_build(self, token: str) -> bool:
        return await self._run(lambda s: s.finish_build(token))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._file.close)
        self._loop_file.close()
        self._executor.shutdown(wait=True)
