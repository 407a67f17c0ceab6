"""A cheap check at start-up for writes another program made while pyregistry was down.

The index only hears of pyregistry's own writes. The common way it misses some is a root
written by distribution (or restored from a backup) while no pyregistry ran. So when a
process first uses a built index, it compares it with storage (unless a sibling worker
is doing that right now) using listings only: the catalog walk and each repository's tag
names, no link reads. Every repository that differs is marked dirty at once (answered
from storage), then repaired. Writes by another program *while* pyregistry runs are
seen by ``pyregistry index rebuild``, or by the same check made every
``index.checkinterval`` (docs/index.md).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from pyregistry.index.backend import Backend
from pyregistry.index.scan import CATALOG_PAGE, repair
from pyregistry.storage.errors import NameUnknown

if TYPE_CHECKING:
    from pyregistry.storage.registry import Registry

log = logging.getLogger("pyregistry.index")

#: While one process checks, the others starting do not; one silent this long is gone.
CHECK_LEASE = 600.0


async def _differs(backend: Backend, registry: Registry, name: str, stale_after: float) -> bool:
    """Whether the index's tags differ from storage's. A write that ends between the two
    reads changes both, so the index is read again after storage: a difference counts
    only when the index held still around the storage read."""
    for _ in range(3):
        before = await backend.read_tags(name, None, None, time.time() - stale_after)
        if before.state != "ok":
            return before.state == "unknown"  # busy or dirty: already answered from storage
        try:
            stored = await registry.repository(name).tags.list(from_storage=True)
        except NameUnknown:
            stored = []
        if stored == before.tags:
            return False
        after = await backend.read_tags(name, None, None, time.time() - stale_after)
        if after.state != "ok":
            return after.state == "unknown"
        if after.tags == before.tags:
            return True
    return True  # it kept moving: let a repair settle it


async def check_against_storage(backend: Backend, registry: Registry, stale_after: float) -> int:
    """Mark dirty and repair what differs from storage; how many repositories did."""
    listed = await backend.read_catalog(None, None)
    if listed is None:
        return 0  # not built: the build reads everything anyway
    known = set(listed[0]) | set(listed[1])
    differing: list[str] = []
    last: str | None = None
    while True:
        names = await registry.catalog(CATALOG_PAGE, last, from_storage=True)
        for name in names:
            known.discard(name)
            if await _differs(backend, registry, name, stale_after):
                differing.append(name)
        if len(names) < CATALOG_PAGE:
            break
        last = names[-1]
    differing.extend(sorted(known))  # listed by the index, gone from storage
    if not differing:
        return 0
    log.warning(
        "metadata index: %d repositories changed in storage behind its back (%s%s); repairing them",
        len(differing),
        ", ".join(differing[:5]),
        ", ..." if len(differing) > 5 else "",
    )
    await backend.mark_dirty(differing)
    for name in differing:
        await repair(backend, registry, name, stale_after)
    return len(differing)
