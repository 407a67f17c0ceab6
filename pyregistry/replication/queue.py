"""The push queue: pending changes per policy, kept on the registry's own storage.

A change (a manifest pushed, a manifest or tag deleted) is written as one small object
under ``/pyregistry/replication/queue/<policy>/`` before the request that caused it is
answered, so it survives ``kill -9`` and restarts, and every instance sharing the storage
sees it. Names start with the time in nanoseconds, so listing the directory gives the
changes in the order they happened; the one instance holding the policy's lease (the
scheduler's) sends them in that order and deletes each object only after the target has
it: at-least-once, and the copies are idempotent. Nothing is held in memory that a crash
could lose.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from pyregistry.storage.paths import PYREGISTRY_ROOT
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

ROOT = f"{PYREGISTRY_ROOT}/replication"
QUEUE_ROOT = f"{ROOT}/queue"

#: Change kinds.
PUSH = "push"
DELETE_MANIFEST = "delete-manifest"
DELETE_TAG = "delete-tag"


@dataclass(frozen=True)
class Change:
    """One change of the source to make at the destination."""

    kind: str
    repository: str
    #: the manifest's digest (push, delete-manifest)
    digest: str = ""
    #: the tags a push named, or the deleted tag
    tags: tuple[str, ...] = ()
    #: registries the change has passed through (see :mod:`origin`)
    origin: tuple[str, ...] = ()
    #: wall-clock seconds when it happened (lag)
    at: float = field(default_factory=time.time)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> Change:
        raw: dict[str, Any] = json.loads(data)
        return cls(
            kind=str(raw["kind"]),
            repository=str(raw["repository"]),
            digest=str(raw.get("digest") or ""),
            tags=tuple(raw.get("tags") or ()),
            origin=tuple(raw.get("origin") or ()),
            at=float(raw.get("at") or 0.0),
        )


@dataclass(frozen=True)
class Queued:
    path: str
    change: Change


class ChangeQueue:
    """The pending changes of one policy."""

    def __init__(self, driver: StorageDriver, policy: str) -> None:
        self.driver = driver
        self.directory = f"{QUEUE_ROOT}/{policy}"

    async def append(self, change: Change) -> str:
        name = f"{time.time_ns():020d}-{secrets.token_hex(6)}"
        path = f"{self.directory}/{name}"
        await self.driver.put_content(path, change.encode())
        return path

    async def names(self) -> list[str]:
        try:
            return await self.driver.list(self.directory)
        except PathNotFound:
            return []

    async def head(self, limit: int = 100) -> list[Queued]:
        """The oldest ``limit`` changes, oldest first (one removed meanwhile is left out)."""
        out = []
        for path in (await self.names())[:limit]:
            try:
                data = await self.driver.get_content(path)
            except PathNotFound:
                continue
            try:
                out.append(Queued(path, Change.decode(data)))
            except (ValueError, KeyError):  # a torn object cannot exist (atomic puts)
                await self.remove(path)
        return out

    async def remove(self, path: str) -> None:
        with contextlib.suppress(PathNotFound):
            await self.driver.delete(path)

    async def pending(self) -> tuple[int, float | None]:
        """How many changes wait, and when the oldest happened (None: none)."""
        names = await self.names()
        if not names:
            return 0, None
        stamp = names[0].rsplit("/", 1)[-1].split("-", 1)[0]
        return len(names), int(stamp) / 1e9
