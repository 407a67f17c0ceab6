"""When each cached manifest of a mirrored repository was last pulled, so that content
nobody pulls can expire (:mod:`pyregistry.proxy.expiry`).

A pull costs no storage write: it sets a time in memory, and a job of every process
(:meth:`PullClock.flush`, every few seconds) writes what changed. Each process writes its
own record per repository (``/pyregistry/mirror-pulls/<repository>/_<writer>``, JSON
``{digest: seconds since the epoch}``), so no two processes ever rewrite one object and
no update is lost to a race; the expiry job takes the latest time among a repository's
records. It never takes one older than when the manifest was cached (its revision link's
modification time): a record lost with a killed process only keeps content longer.

Times older than the repository's lifetime are dropped from memory at each flush; a
record not rewritten for longer than that holds nothing that counts, and the expiry job
removes it (:meth:`PullClock.remove_stale`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable

from pyregistry.storage import paths
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

log = logging.getLogger("pyregistry.proxy")

#: Where the records live (repository names cannot have a component starting with ``_``,
#: so a writer's record never collides with a nested repository's directory).
RECORDS_ROOT = f"{paths.PYREGISTRY_ROOT}/mirror-pulls"
WRITER_MARK = "_"


def record_dir(repository: str) -> str:
    return f"{RECORDS_ROOT}/{repository}"


def _decode(content: bytes) -> dict[str, float]:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}


class PullClock:
    """This process's pull times, by repository and manifest digest."""

    def __init__(self, driver: StorageDriver, *, clock: Callable[[], float] = time.time) -> None:
        self.driver = driver
        self.clock = clock
        self._writer = ""
        self._pid = 0
        self._times: dict[str, dict[str, float]] = {}
        self._lifetimes: dict[str, float] = {}
        self._dirty: set[str] = set()

    @property
    def writer(self) -> str:
        """This process's record name; a new one after a fork (one writer per record)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._writer = WRITER_MARK + secrets.token_hex(8)
        return self._writer

    def pulled(self, repository: str, digest: str, lifetime: float) -> None:
        """Note a pull (memory only); ``lifetime`` is how long a time is worth keeping."""
        self._times.setdefault(repository, {})[digest] = self.clock()
        self._lifetimes[repository] = lifetime
        self._dirty.add(repository)

    def _path(self, repository: str) -> str:
        return f"{record_dir(repository)}/{self.writer}"

    async def flush(self) -> int:
        """Write the record of every repository pulled since the last flush; how many."""
        dirty, self._dirty = self._dirty, set()
        written = 0
        for repository in sorted(dirty):
            times = self._times.get(repository, {})
            lifetime = self._lifetimes.get(repository, 0.0)
            if lifetime > 0:
                cutoff = self.clock() - lifetime
                for digest in [d for d, t in times.items() if t < cutoff]:
                    del times[digest]
            try:
                await self.driver.put_content(
                    self._path(repository), json.dumps(times, sort_keys=True).encode()
                )
            except Exception as exc:  # noqa: BLE001 - kept dirty: the next flush tries again
                self._dirty.add(repository)
                log.warning("could not record pulls of %s: %s", repository, exc)
                continue
            written += 1
        return written

    async def _records(self, repository: str) -> list[str]:
        try:
            children = await self.driver.list(record_dir(repository))
        except PathNotFound:
            return []
        return [c for c in children if c.rsplit("/", 1)[-1].startswith(WRITER_MARK)]

    async def read(self, repository: str) -> dict[str, float]:
        """The latest pull time of each digest, across every process's record and this
        process's unflushed memory."""
        latest = dict(self._times.get(repository, {}))
        for path in await self._records(repository):
            try:
                content = await self.driver.get_content(path)
            except PathNotFound:
                continue
            for digest, when in _decode(content).items():
                if when > latest.get(digest, 0.0):
                    latest[digest] = when
        return latest

    def forget(self, repository: str, digests: Iterable[str]) -> None:
        """Drop expired manifests from memory (their times no longer count)."""
        times = self._times.get(repository)
        if times is not None:
            for digest in digests:
                times.pop(digest, None)

    async def remove_stale(self, repository: str, older_than: float) -> int:
        """Remove other processes' records last written before ``older_than`` (epoch)."""
        removed = 0
        for path in await self._records(repository):
            if path.endswith("/" + self.writer):
                continue
            try:
                info = await self.driver.stat(path)
                if info.mod_time.timestamp() >= older_than:
                    continue
                await self.driver.delete(path)
            except PathNotFound:
                continue
            removed += 1
        return removed
