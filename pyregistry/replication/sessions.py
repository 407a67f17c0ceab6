"""Upload sessions at a target that outlive the process: a chunked blob upload records
its session URL on this registry's storage after every chunk, so when the process dies
(``kill -9``) mid-blob, the instance that sends the change next asks the target where
that session stands and sends only the rest.

A record goes when its blob is at the target (uploaded, or found there), and when the
change it was for is done with (sent by another way, or given up); one left behind by a
process that died, or by a full sync that stopped, is removed by the push job's sweep
once it has made no progress for ``queue.stalesessions``."""

from __future__ import annotations

import contextlib
import hashlib
import time

import httpx

from pyregistry.replication.queue import ROOT
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

SESSIONS_ROOT = f"{ROOT}/uploads"


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class UploadSessions:
    """The open upload sessions of one target, by (repository, digest)."""

    def __init__(self, driver: StorageDriver, target: str) -> None:
        self.driver = driver
        self.directory = f"{SESSIONS_ROOT}/{_key(target)}"

    def _path(self, repository: str, digest: str) -> str:
        return f"{self.directory}/{_key(repository, digest)}"

    async def find(self, repository: str, digest: str) -> str | None:
        try:
            return (await self.driver.get_content(self._path(repository, digest))).decode()
        except PathNotFound:
            return None

    async def save(self, repository: str, digest: str, location: httpx.URL) -> None:
        await self.driver.put_content(self._path(repository, digest), str(location).encode())

    async def forget(self, repository: str, digest: str) -> None:
        with contextlib.suppress(PathNotFound):
            await self.driver.delete(self._path(repository, digest))

    async def sweep(self, older_than: float) -> int:
        """Remove the records untouched for ``older_than`` seconds; how many went."""
        try:
            paths = await self.driver.list(self.directory)
        except PathNotFound:
            return 0
        removed = 0
        for path in paths:
            try:
                info = await self.driver.stat(path)
                if info.is_dir or time.time() - info.mod_time.timestamp() < older_than:
                    continue
                await self.driver.delete(path)
            except PathNotFound:
                continue
            removed += 1
        return removed
