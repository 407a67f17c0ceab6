"""The index in the shared Redis, for several instances on one storage (``redis`` set).

Every instance's writes and reads go through the same keys, and each operation is one Lua
script (``redis_scripts``), so the rules that keep the SQLite index exact hold here too.
Redis must keep these keys: no eviction policy that may drop keys without a TTL
(``allkeys-*``), and persistence if a restart should not cost a rebuild. A Redis that
lost them (flushed, restarted empty) has no ``ready`` mark: the index is rebuilt while
storage answers. On a Redis Cluster every key is under ``{pyregistry:index}:`` (one slot,
so a script may touch several) and each script names one of them for routing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from redis.asyncio.client import Redis

from pyregistry.descriptor_cache.connection import (
    REDIS_FAILURES,
    RedisSettings,
    close_client,
    create_client,
    hash_tagged,
)
from pyregistry.index import redis_browse
from pyregistry.index.backend import (
    IndexUnavailable,
    ManifestRow,
    Op,
    RepositoryScan,
    TagRow,
    TagsAnswer,
    decode_blobs,
    encode_blobs,
)
from pyregistry.index.browse import RepositoryListing, RepositoryQuery
from pyregistry.index.redis_scripts import PREAMBLE, SCRIPTS
from pyregistry.storage.catalog import path_order

log = logging.getLogger("pyregistry.index")

PREFIX = "pyregistry:index:"
#: A Redis that fails, or a value that is not the text the index wrote.
_FAILURES_OR_BAD_TEXT: tuple[type[Exception], ...] = (*REDIS_FAILURES, UnicodeError)


def _lex_after(value: str | None) -> str:
    """ZRANGEBYLEX's exclusive lower bound (``-``: from the start)."""
    return "(" + value if value else "-"


def _flag(value: bool | None) -> str:
    return "" if value is None else "1" if value else "0"


class RedisBackend:
    """The index's rows in the Redis the ``redis`` section names."""

    def __init__(self, settings: RedisSettings, prefix: str = PREFIX) -> None:
        self.location = f"redis {settings.address} db {settings.db}"
        self._prefix = hash_tagged(prefix, settings)
        self._client: Redis = create_client(settings)
        self._scripts = {
            name: self._client.register_script(PREAMBLE + body) for name, body in SCRIPTS.items()
        }

    async def _eval(self, name: str, *args: object) -> Any:
        try:
            return await self._scripts[name](
                keys=[self._prefix + "meta"], args=[self._prefix, *map(str, args)]
            )
        except _FAILURES_OR_BAD_TEXT as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc

    async def ready(self) -> bool:
        try:
            return await redis_browse.is_ready(self._client, self._prefix)
        except REDIS_FAILURES as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc

    async def present(self, name: str) -> bool:
        try:
            return bool(await self._client.hget(f"{self._prefix}repo:{name}", "present") == "1")
        except REDIS_FAILURES as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc

    async def read_tags(
        self, name: str, n: int | None, last: str | None, stale_before: float
    ) -> TagsAnswer:
        limit = -1 if n is None else n
        state, total, tags = await self._eval(
            "read_tags", name, limit, _lex_after(last), repr(stale_before)
        )
        return TagsAnswer(state, list(tags), int(total))

    async def read_catalog(
        self, n: int | None, last: str | None
    ) -> tuple[list[str], list[str]] | None:
        after = path_order(last) if last else None
        answer = await self._eval("read_catalog", _lex_after(after), -1 if n is None else n)
        if answer is None:
            return None
        keys, pending = answer
        names = [key.replace("\x00", "/") for key in keys]
        later = [name for name in pending if after is None or path_order(name) > after]
        return names, later

    async def manifest_rows(self, name: str) -> dict[str, ManifestRow]:
        pipe = self._client.pipeline(transaction=True)
        pipe.hgetall(f"{self._prefix}mblobs:{name}")
        pipe.hgetall(f"{self._prefix}manifests:{name}")
        try:
            listed, types = await pipe.execute()
        except REDIS_FAILURES as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc
        return {
            str(digest): ManifestRow(
                str(digest), str(types.get(digest, "")), tuple(decode_blobs(str(blobs)))
            )
            for digest, blobs in listed.items()
        }

    async def list_repositories(self, query: RepositoryQuery) -> RepositoryListing | None:
        try:
            return await redis_browse.list_repositories(self._client, self._prefix, query)
        except _FAILURES_OR_BAD_TEXT as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc

    async def tag_rows(self, name: str) -> list[TagRow] | None:
        try:
            return await redis_browse.tag_rows(self._client, self._prefix, name)
        except _FAILURES_OR_BAD_TEXT as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc

    async def begin(self, name: str, token: str, now: float) -> bool:
        return bool(await self._eval("begin", name, path_order(name), token, repr(now)))

    async def finish(
        self, name: str, token: str, ops: Sequence[Op] | None, exists: bool | None, now: float
    ) -> None:
        encoded = "" if ops is None else json.dumps([list(op) for op in ops])
        await self._eval("finish", name, path_order(name), token, encoded, _flag(exists), now)

    async def mark_dirty(self, names: Sequence[str]) -> None:
        pairs = [part for name in names for part in (name, path_order(name))]
        await self._eval("mark_dirty", *pairs)

    async def mark_present(self, names: Sequence[str]) -> None:
        pairs = [part for name in names for part in (name, path_order(name))]
        await self._eval("mark_present", *pairs)

    async def repair_start(self, name: str, stale_before: float) -> int | None:
        generation = await self._eval("repair_start", name, path_order(name), repr(stale_before))
        return None if generation is None else int(generation)

    async def repair_commit(self, name: str, generation: int, scan: RepositoryScan) -> bool:
        tags = json.dumps(
            [
                [r.tag, r.digest, r.media_type or "", "" if r.pushed_at is None else r.pushed_at]
                for r in scan.tags
            ]
        )
        manifests = json.dumps(
            [[m.digest, m.media_type, encode_blobs(m.blobs)] for m in scan.manifests]
        )
        key, exists = path_order(name), _flag(scan.exists)
        return bool(
            await self._eval("repair_commit", name, key, generation, exists, tags, manifests)
        )

    async def claim_build(self, token: str, now: float, stale_before: float, force: bool) -> bool:
        return bool(
            await self._eval("claim_build", token, repr(now), repr(stale_before), _flag(force))
        )

    async def claim_check(self, now: float, lease: float) -> bool:
        try:
            claimed = await self._client.set(
                f"{self._prefix}checking", repr(now), nx=True, px=max(1, int(lease * 1000))
            )
        except REDIS_FAILURES as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc
        return bool(claimed)

    async def release_check(self) -> None:
        try:
            await self._client.delete(f"{self._prefix}checking")
        except REDIS_FAILURES as exc:
            raise IndexUnavailable(f"{self.location}: {exc}") from exc

    async def heartbeat(self, token: str, now: float) -> bool:
        return bool(await self._eval("heartbeat", token, repr(now)))

    async def finish_build(self, token: str) -> bool:
        return bool(await self._eval("finish_build", token))

    async def close(self) -> None:
        try:
            await close_client(self._client)
        except REDIS_FAILURES as exc:
            log.debug("closing the index's redis client: %s", exc)
