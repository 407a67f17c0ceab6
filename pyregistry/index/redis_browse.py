"""The browse questions (``browse``) on the Redis index: the names from ``P repos``, tag
counts by one pipelined ``ZCARD`` each, filtered, sorted and paged here. Last push times
(the newest of a repository's ``P tag:<name>`` entries) are read for the page only,
unless the listing is sorted by them.
"""

from __future__ import annotations

from typing import Any

from pyregistry.index.backend import TagRow
from pyregistry.index.browse import RepositoryListing, RepositoryQuery, RepositoryRow, order_rows


def _newest(info: dict[str, str]) -> float | None:
    times = [_pushed(value) for value in info.values()]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _pushed(value: str) -> float | None:
    parts = value.split("\t")
    try:
        return float(parts[2]) if len(parts) > 2 and parts[2] else None
    except ValueError:
        return None


async def list_repositories(
    client: Any, prefix: str, query: RepositoryQuery
) -> RepositoryListing | None:
    if await client.hget(f"{prefix}meta", "ready") != "1":
        return None
    keys = await client.zrangebylex(f"{prefix}repos", "-", "+")
    names = [key.replace("\x00", "/") for key in keys]
    names = [name for name in names if query.matches(name)]
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.zcard(f"{prefix}tags:{name}")
    counts = await pipe.execute() if names else []
    pushed: dict[str, float | None] = {}
    if query.sort == "pushed":
        pushed = await _push_times(client, prefix, names)
    rows = [RepositoryRow(n, int(c), pushed.get(n)) for n, c in zip(names, counts, strict=True)]
    listing = order_rows(rows, query)
    if query.sort != "pushed":
        pushed = await _push_times(client, prefix, [row.name for row in listing.rows])
        page = [RepositoryRow(r.name, r.tag_count, pushed.get(r.name)) for r in listing.rows]
        listing = RepositoryListing(page, listing.total)
    return listing


async def _push_times(client: Any, prefix: str, names: list[str]) -> dict[str, float | None]:
    if not names:
        return {}
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(f"{prefix}tag:{name}")
    infos = await pipe.execute()
    return {name: _newest(info) for name, info in zip(names, infos, strict=True)}


async def tag_rows(client: Any, prefix: str, name: str) -> list[TagRow] | None:
    if await client.hget(f"{prefix}meta", "ready") != "1":
        return None
    if await client.hget(f"{prefix}repo:{name}", "present") != "1":
        return None
    info = await client.hgetall(f"{prefix}tag:{name}")
    rows = []
    for tag, value in info.items():
        digest, _, rest = str(value).partition("\t")
        media = rest.split("\t", 1)[0] or None
        rows.append(TagRow(str(tag), digest, media, _pushed(str(value))))
    rows.sort(key=lambda r: (-(r.pushed_at or 0.0), r.tag))
    return rows
