"""The browse questions (``browse``) on the Redis index: the names from ``P repos``, tag
counts by one pipelined ``ZCARD`` each, filtered, sorted and paged here. Sizes (a field
of ``P repo:<name>``) and last push times (the newest of a repository's ``P tag:<name>``
entries) are read for the page only, unless the listing is sorted by them.
"""

from __future__ import annotations

from typing import Any

from pyregistry.index.backend import SCHEMA_VERSION, TagRow
from pyregistry.index.browse import RepositoryListing, RepositoryQuery, RepositoryRow, order_rows


async def is_ready(client: Any, prefix: str) -> bool:
    """Built completely, by a pyregistry that keeps the keys this one reads."""
    ready, schema = await client.hmget(f"{prefix}meta", ["ready", "schema"])
    return bool(ready == "1" and schema == SCHEMA_VERSION)


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
    if not await is_ready(client, prefix):
        return None
    keys = await client.zrangebylex(f"{prefix}repos", "-", "+")
    names = [key.replace("\x00", "/") for key in keys]
    names = [name for name in names if query.matches(name)]
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.zcard(f"{prefix}tags:{name}")
    counts = await pipe.execute() if names else []
    pushed: dict[str, float | None] = {}
    sizes: dict[str, int] = {}
    if query.sort == "pushed":
        pushed = await _push_times(client, prefix, names)
    if query.sort == "size":
        sizes = await _sizes(client, prefix, names)
    rows = [
        RepositoryRow(n, int(c), pushed.get(n), sizes.get(n))
        for n, c in zip(names, counts, strict=True)
    ]
    listing = order_rows(rows, query)
    page = [row.name for row in listing.rows]
    if query.sort != "pushed":
        pushed = await _push_times(client, prefix, page)
    if query.sort != "size":
        sizes = await _sizes(client, prefix, page)
    dirty = await _dirty(client, prefix, page)
    return RepositoryListing(
        [
            RepositoryRow(r.name, r.tag_count, pushed.get(r.name), sizes[r.name], dirty[r.name])
            for r in listing.rows
        ],
        listing.total,
    )


async def _field(client: Any, prefix: str, names: list[str], field: str) -> dict[str, Any]:
    """One field of each repository's hash, in one round trip."""
    if not names:
        return {}
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hget(f"{prefix}repo:{name}", field)
    return dict(zip(names, await pipe.execute(), strict=True))


async def _sizes(client: Any, prefix: str, names: list[str]) -> dict[str, int]:
    found = await _field(client, prefix, names, "size")
    return {name: int(size or 0) for name, size in found.items()}


async def _dirty(client: Any, prefix: str, names: list[str]) -> dict[str, bool]:
    found = await _field(client, prefix, names, "dirty")
    return {name: flag == "1" for name, flag in found.items()}


async def _push_times(client: Any, prefix: str, names: list[str]) -> dict[str, float | None]:
    if not names:
        return {}
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(f"{prefix}tag:{name}")
    infos = await pipe.execute()
    return {name: _newest(info) for name, info in zip(names, infos, strict=True)}


async def tag_rows(client: Any, prefix: str, name: str) -> list[TagRow] | None:
    if not await is_ready(client, prefix):
        return None
    present, dirty = await client.hmget(f"{prefix}repo:{name}", ["present", "dirty"])
    if present != "1" or dirty == "1":
        return None
    info = await client.hgetall(f"{prefix}tag:{name}")
    rows = []
    for tag, value in info.items():
        digest, _, rest = str(value).partition("\t")
        media = rest.split("\t", 1)[0] or None
        rows.append(TagRow(str(tag), digest, media, _pushed(str(value))))
    rows.sort(key=lambda r: (-(r.pushed_at or 0.0), r.tag))
    return rows
