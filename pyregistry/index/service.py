"""The metadata index as the storage layer uses it (``MetadataIndex``), over a backend.

Any doubt makes a listing return None, and the storage layer then lists storage: the
index is not ready yet (a build runs in the background), a write is in flight on that
repository, a write left it dirty (a repair runs in the background), or the backend
cannot answer (a damaged SQLite file is replaced by a fresh one, which is then built).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from pyregistry.config.duration import format_duration
from pyregistry.index.backend import Backend, IndexUnavailable, TagRow
from pyregistry.index.browse import RepositoryListing, RepositoryQuery
from pyregistry.index.changes import RecordedChange
from pyregistry.index.progress import Progress, log_progress
from pyregistry.index.scan import rebuild, repair
from pyregistry.index.verify import CHECK_LEASE, check_against_storage
from pyregistry.storage.catalog import path_order
from pyregistry.storage.errors import RegistryError
from pyregistry.storage.metadata import TagPage
from pyregistry.tasks.scheduler import Job, JobRun, Scheduler

if TYPE_CHECKING:
    from pyregistry.storage.registry import Registry

log = logging.getLogger("pyregistry.index")

#: The scheduler job of ``index.checkinterval``.
CHECK_JOB_NAME = "index-check"
#: An intent older than this belongs to a writer that is gone (crashed, killed).
STALE_INTENT_AFTER = 60.0
#: A builder that has not reported for this long is gone; another process takes over.
STALE_BUILDER_AFTER = 60.0
#: How often a process checks whether an unready index still needs a builder.
BUILD_CHECK_INTERVAL = 5.0
#: A repository is repaired at most this often by one process.
REPAIR_INTERVAL = 1.0
MAX_REPAIRS_TRACKED = 10000
#: How often a process retries telling the index about writes it could not record.
OWED_RETRY_INTERVAL = 0.5


class IndexService:
    """A metadata index over ``backend``, as the storage layer uses it."""

    def __init__(
        self,
        backend: Backend,
        *,
        build_in_background: bool = True,
        stale_intent_after: float = STALE_INTENT_AFTER,
        check_on_start: bool = True,
    ) -> None:
        self.backend = backend
        self.check_on_start = check_on_start
        self.build_in_background = build_in_background
        self.stale_intent_after = stale_intent_after
        self._registry: Registry | None = None
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._closed = False
        self._started = False
        #: Repositories written while the backend could not record it (see ``owe``).
        self._owed: set[str] = set()
        #: When this process last started a repair of each repository (monotonic).
        self._repaired: dict[str, float] = {}
        #: Listings this process answered from the index / left to storage.
        self.answered = 0
        self.bypassed = 0

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            raise RuntimeError("the index is not attached to a registry")
        return self._registry

    # -- MetadataIndex ---------------------------------------------------------------------

    def attach(self, registry: Registry) -> None:
        self._registry = registry

    def change(self, repository: str, *, contents: bool = True) -> RecordedChange:
        if not self._started:
            self._start()
        return RecordedChange(self, repository, contents)

    def _start(self) -> None:
        """On first use: build the index if no complete one is there (a fresh file), else
        compare it with storage (``verify``)."""
        self._started = True
        self._maybe_build()
        if self.check_on_start:
            self._background("check", self._check())

    def register_check(self, scheduler: Scheduler, interval: float) -> Job:
        """Compare the index with storage every ``interval`` on one instance of the
        cluster, as at start-up: a root another program writes to while pyregistry serves
        (distribution beside it during a switch) has its listings repaired within that."""
        log.info(f"metadata index compared with storage every {format_duration(interval)}")
        return scheduler.every(
            CHECK_JOB_NAME, interval, self._check_job, jitter=min(interval / 10, 60.0)
        )

    async def _check_job(self, run: JobRun) -> None:
        if not self._started:
            self._start()  # a first use compares anyway (unless a build is due instead)
        else:
            await self._check()

    async def _check(self) -> None:
        try:
            if not await self.backend.claim_check(time.time(), CHECK_LEASE):
                return  # another process (a sibling worker) is checking
            try:
                await check_against_storage(self.backend, self.registry, self.stale_intent_after)
            finally:
                await self.backend.release_check()
        except (IndexUnavailable, RegistryError) as exc:
            log.warning("metadata index check against storage stopped: %s", exc)

    async def tags(self, repository: str, n: int | None, last: str | None) -> TagPage | None:
        n = _page_size(n)
        if not self._started:
            self._start()
        if self._owed:
            self.bypassed += 1
            return None
        stale_before = time.time() - self.stale_intent_after
        try:
            answer = await self.backend.read_tags(repository, n, last, stale_before)
        except IndexUnavailable:
            self.bypassed += 1
            return None
        if answer.state == "ok":
            self.answered += 1
            return TagPage(answer.tags, answer.total)
        self.bypassed += 1
        if answer.state == "stale":
            self._repair_soon(repository)
        elif answer.state == "unready":
            self._maybe_build()
        return None

    async def catalog(self, n: int | None, last: str | None) -> list[str] | None:
        n = _page_size(n)
        if not self._started:
            self._start()
        if self._owed:
            self.bypassed += 1
            return None
        try:
            answer = await self.backend.read_catalog(n, last)
        except IndexUnavailable:
            self.bypassed += 1
            return None
        if answer is None:
            self.bypassed += 1
            self._maybe_build()
            return None
        names, pending = answer
        self.answered += 1
        if not pending:
            return names
        try:  # repositories whose first write is in flight, or whose writer died
            existing = [name for name in pending if await self.registry.repository(name).exists()]
        except RegistryError:
            return None
        for name in set(pending).difference(existing):
            self._repair_soon(name)  # drops it when no write is in flight on it
        if existing:
            names = sorted({*names, *existing}, key=path_order)
            names = names if n is None else names[:n]
            with contextlib.suppress(IndexUnavailable):
                await self.backend.mark_present(existing)
        return names

    # -- for people (``browse``): None when the index cannot answer -------------------------

    async def list_repositories(self, query: RepositoryQuery) -> RepositoryListing | None:
        """A page whose rows are all right, or None. A dirty row on the page is repaired
        first (one scan of that repository) and the page read again; a row still dirty
        then makes storage answer, with its repair left running."""
        if not self._started:
            self._start()
        try:
            listing = await self.backend.list_repositories(query)
            if listing is None:
                return None
            dirty = [row.name for row in listing.rows if row.dirty]
            if not dirty:
                return listing
            for name in dirty:
                await self._repaired_now(name)
            listing = await self.backend.list_repositories(query)
        except IndexUnavailable:
            return None
        if listing is None:
            return None
        for row in listing.rows:
            if row.dirty:
                self._repair_soon(row.name)
                return None
        return listing

    async def tag_rows(self, repository: str) -> list[TagRow] | None:
        """A repository's tag rows; None (storage answers) while its row is in doubt."""
        if not self._started:
            self._start()
        try:
            rows = await self.backend.tag_rows(repository)
            if rows is None and await self._repaired_now(repository):
                rows = await self.backend.tag_rows(repository)
        except IndexUnavailable:
            return None
        return rows

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await self.backend.close()

    @property
    def owing(self) -> bool:
        """Whether writes wait to be told to the index (it was unavailable)."""
        return bool(self._owed)

    def owe(self, repository: str, reason: str) -> None:
        """A write to ``repository`` went on without the index hearing of it: answer from
        storage here until the index is told (marked dirty), retried in the background."""
        if not self._owed:
            log.warning("metadata index unavailable (%s): listings from storage", reason)
        self._owed.add(repository)
        self._background("owed", self._pay())

    async def _pay(self) -> None:
        while self._owed:
            owed = sorted(self._owed)
            try:
                await self.backend.mark_dirty(owed)
            except IndexUnavailable:
                await asyncio.sleep(OWED_RETRY_INTERVAL)
                continue
            self._owed.difference_update(owed)
        log.info("metadata index is back; writes made meanwhile are being repaired")

    # -- repairs and builds ------------------------------------------------------------------

    def _repair_soon(self, repository: str) -> None:
        """A background repair, at most one per repository per ``REPAIR_INTERVAL`` here
        (writes that keep racing it would otherwise make every listing start a scan)."""
        now = time.monotonic()
        if now - self._repaired.get(repository, -REPAIR_INTERVAL) < REPAIR_INTERVAL:
            return
        if len(self._repaired) > MAX_REPAIRS_TRACKED:
            self._repaired.clear()
        self._repaired[repository] = now
        self._background(f"repair:{repository}", self.repair(repository))

    async def _repaired_now(self, repository: str) -> bool:
        """Repair a repository the index knows to be dirty, here and now; whether it is
        right afterwards. Unknown names cost no write."""
        stale_before = time.time() - self.stale_intent_after
        answer = await self.backend.read_tags(repository, 0, None, stale_before)
        return answer.state == "stale" and await self.repair(repository)

    async def repair(self, repository: str) -> bool:
        """Replace the repository's rows with what storage holds (False: a write raced)."""
        try:
            return await repair(self.backend, self.registry, repository, self.stale_intent_after)
        except (IndexUnavailable, RegistryError) as exc:
            log.warning("metadata index: repair of %s stopped (%s)", repository, exc)
            return False

    async def rebuild(self, progress: Progress | None = None, *, force: bool = True) -> bool:
        """Recreate the whole index from storage; False when another builder is at it
        (without ``force``) or took over."""
        token = secrets.token_hex(8)
        now = time.time()
        claimed = await self.backend.claim_build(token, now, now - STALE_BUILDER_AFTER, force)
        if not claimed:
            return False
        return await rebuild(
            self.backend, self.registry, token, self.stale_intent_after, progress or log_progress()
        )

    def _maybe_build(self) -> None:
        """Start the build loop unless it runs already in this process."""
        if self.build_in_background:
            self._background("build", self._build())

    async def _build(self) -> None:
        """Until the index is ready: build it, or wait for the process that does (and take
        over if that one stops reporting)."""
        while not self._closed:
            try:
                if await self.rebuild(force=False):
                    log.info("metadata index built in %s", self.backend.location)
                if await self.backend.ready():
                    return
            except (IndexUnavailable, RegistryError) as exc:
                log.warning("metadata index build stopped (%s); trying again", exc)
            await asyncio.sleep(BUILD_CHECK_INTERVAL)

    def _background(self, key: str, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` unless the same work already runs in this process."""
        running = self._tasks.get(key)
        if self._closed or (running is not None and not running.done()):
            work.close()
            return
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(work)
        self._tasks[key] = task

        def done(finished: asyncio.Task[Any]) -> None:
            if self._tasks.get(key) is finished:
                del self._tasks[key]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("metadata index %s failed", key, exc_info=finished.exception())

        task.add_done_callback(done)


#: A page larger than any index can hold is no limit at all (and must not overflow
#: SQLite's 64-bit integers or Redis's, as a client's ``n=99999999999999999999`` would).
_MAX_PAGE = 2**31


def _page_size(n: int | None) -> int | None:
    return None if n is None or n >= _MAX_PAGE else n
