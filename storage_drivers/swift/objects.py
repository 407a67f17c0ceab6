"""Object-level housekeeping shared by the driver and its writer: manifests and deletes.

Segments belong to exactly one manifest, so whoever removes or replaces a manifest
removes its segments too; otherwise every overwritten or deleted large object would
leak its data in the container forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from storage_drivers.errors import StorageDriverError
from storage_drivers.swift.connection import DRIVER, SwiftConnection, swift_error
from storage_drivers.swift.layout import Layout

#: Parallel DELETEs when the bulk middleware is not available.
DELETE_CONCURRENCY = 16
#: Names per bulk-delete request (Swift allows 10000 by default).
BULK_BATCH = 1000


@dataclass(frozen=True, slots=True)
class RawHead:
    """An object as stored: for a manifest, the manifest itself, not its segments."""

    manifest: str | None  # X-Object-Manifest of a DLO
    slo: bool


def mod_time(value: str | None) -> datetime:
    """A Last-Modified header (or listing timestamp) as an aware datetime."""
    if value:
        try:
            if "T" in value:
                return datetime.fromisoformat(value).replace(tzinfo=UTC)
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC)


async def head_raw(conn: SwiftConnection, name: str) -> RawHead | None:
    """HEAD an object without DLO/SLO expansion; None when it does not exist."""
    response = await conn.request(
        "HEAD", conn.object_path(name), params={"multipart-manifest": "get"}
    )
    if response.status_code == 404:
        return None
    if not response.is_success:
        raise swift_error(response, name)
    slo = response.headers.get("X-Static-Large-Object", "").lower() == "true"
    return RawHead(response.headers.get("X-Object-Manifest"), slo)


async def delete_objects(
    conn: SwiftConnection, names: Sequence[str], container: str | None = None
) -> None:
    """Delete ``names`` (already gone is fine): bulk requests, else bounded parallel DELETEs."""
    container = container or conn.params.container
    if conn.bulk_delete_max > 0:
        step = max(1, min(conn.bulk_delete_max, BULK_BATCH))
        for start in range(0, len(names), step):
            await _bulk_delete(conn, container, names[start : start + step])
        return
    limit = asyncio.Semaphore(DELETE_CONCURRENCY)

    async def one(name: str) -> None:
        async with limit:
            response = await conn.request("DELETE", conn.object_path(name, container))
            if not response.is_success and response.status_code != 404:
                raise swift_error(response, name)

    await asyncio.gather(*(one(n) for n in names))


async def _bulk_delete(conn: SwiftConnection, container: str, names: Sequence[str]) -> None:
    if not names:
        return
    body = "\n".join(quote(f"/{container}/{name}") for name in names)
    response = await conn.request(
        "POST",
        "",
        params={"bulk-delete": "true"},
        headers={"Content-Type": "text/plain", "Accept": "application/json"},
        content=body.encode(),
    )
    if not response.is_success:
        raise swift_error(response, "bulk delete")
    try:
        result = response.json()
    except ValueError as exc:
        raise StorageDriverError("swift: unreadable bulk-delete answer", driver=DRIVER) from exc
    errors = [e for e in result.get("Errors", []) if not str(e[1]).startswith("404")]
    status = str(result.get("Response Status", "200"))
    if errors or not (status.startswith("2") or status.startswith("400")):
        raise StorageDriverError(
            f"swift: bulk delete failed: {status} {errors[:5]}".rstrip(), driver=DRIVER
        )


async def delete_prefix(conn: SwiftConnection, prefix: str, container: str | None = None) -> int:
    """Delete every object whose name starts with ``prefix``; returns how many."""
    count = 0
    batch: list[str] = []
    async for entry in conn.listing(prefix, container=container):
        batch.append(entry["name"])
        if len(batch) >= BULK_BATCH:
            await delete_objects(conn, batch, container)
            count, batch = count + len(batch), []
    await delete_objects(conn, batch, container)
    return count + len(batch)


async def delete_segments(conn: SwiftConnection, layout: Layout, manifest: str | None) -> None:
    """Remove the segments of a DLO manifest, if they live in our segments area."""
    if not manifest:
        return
    container, segments = layout.parse_manifest(manifest)
    if layout.owns(container, segments):
        await delete_prefix(conn, segments, container)


async def delete_manifest_or_object(conn: SwiftConnection, layout: Layout, name: str) -> bool:
    """Delete one visible object and, for a large object, its segments; False if absent."""
    head = await head_raw(conn, name)
    if head is None:
        return False
    params = {"multipart-manifest": "delete"} if head.slo else None
    response = await conn.request("DELETE", conn.object_path(name), params=params)
    if not response.is_success and response.status_code != 404:
        raise swift_error(response, name)
    await delete_segments(conn, layout, head.manifest)
    return True


async def replace_cleanup(
    conn: SwiftConnection, layout: Layout, old: RawHead | None, new_manifest: str | None
) -> None:
    """After ``old`` was overwritten: drop its segments unless the new content uses them."""
    if old is None or not old.manifest:
        return
    if new_manifest is not None and _segments_key(layout, old.manifest) == _segments_key(
        layout, new_manifest
    ):
        return
    await delete_segments(conn, layout, old.manifest)


def _segments_key(layout: Layout, manifest: str) -> tuple[str, str]:
    container, segments = layout.parse_manifest(manifest)
    return container, segments.rstrip("/")
