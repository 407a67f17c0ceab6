"""Reading the truth back from storage: one repository (a repair) or all (a rebuild).

A repository's scan reads its tags (with their links) and every manifest revision it
holds; the blobs a manifest references (for the repository's size) are read only for
manifests the index does not know yet: a digest names the same bytes forever.

Both go through the storage layer's public API with ``from_storage=True``, so they never
read the index they are rebuilding. A scan is committed only if no write began or ended
on that repository meanwhile (see ``IndexStore.repair_commit``); if one did, the
repository stays dirty and is answered from storage until its next repair.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pyregistry.index.backend import Backend, ManifestRow, RepositoryScan, TagRow, counted
from pyregistry.index.progress import Progress
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import NameUnknown, RegistryError
from pyregistry.storage.manifest_format import parse_manifest

if TYPE_CHECKING:
    from pyregistry.storage.registry import Registry

#: Repository names read from storage per catalog page during a rebuild.
CATALOG_PAGE = 500
#: A rebuild tells the database it is alive at least this often (repositories).
HEARTBEAT_EVERY = 25


async def scan_repository(
    registry: Registry, name: str, known: dict[str, ManifestRow]
) -> RepositoryScan:
    """The repository as storage has it (``known``: manifests not to read again)."""
    repository = registry.repository(name)
    try:
        tags = await repository.tags.list(from_storage=True)
    except NameUnknown:
        return RepositoryScan(False, [], [])
    manifests: dict[str, ManifestRow] = {}
    async for revision in repository.manifests.enumerate():
        row = known.get(str(revision)) or await _read_manifest(registry, name, revision)
        if row is not None:
            manifests[row.digest] = row
    media_types = {key: row.media_type for key, row in manifests.items()}
    rows = []
    for tag in tags:
        info = await repository.tags.describe(tag)
        if info is None:  # listed but without a readable link: still listed, as today
            rows.append(TagRow(tag, "", None, None))
            continue
        digest = str(info.digest)
        if digest not in media_types:
            media_types[digest] = await _media_type(registry, name, info.digest)
        media = media_types[digest] or None
        rows.append(TagRow(tag, digest, media, info.pushed_at.timestamp()))
    return RepositoryScan(True, rows, list(manifests.values()))


async def _read_manifest(registry: Registry, name: str, digest: Digest) -> ManifestRow | None:
    """Its media type and blobs (None: its revision names no bytes, so it holds none)."""
    try:
        stored = await registry.repository(name).manifests.get(digest)
    except RegistryError:
        return None
    blobs = [(str(digest), len(stored.content))]
    try:
        parsed = parse_manifest(stored.content, stored.media_type)
    except (RegistryError, ValueError):
        parsed = None  # not one pyregistry would accept today: only its own bytes count
    if parsed is not None:
        blobs.extend((str(blob.digest), counted(blob.size)) for blob in parsed.stored_blobs)
    return ManifestRow(str(digest), stored.media_type, tuple(blobs))


async def _media_type(registry: Registry, name: str, digest: Digest) -> str:
    try:
        return (await registry.repository(name).manifests.get(digest)).media_type
    except RegistryError:
        return ""  # the tag names a manifest that is gone: the UI shows no type


async def repair(backend: Backend, registry: Registry, name: str, stale_after: float) -> bool:
    """Replace one repository's rows with a scan; False when a write raced it."""
    generation = await backend.repair_start(name, time.time() - stale_after)
    if generation is None:
        return False  # a write is in flight; its end decides what comes next
    known = await backend.manifest_rows(name)
    scan = await scan_repository(registry, name, known)
    return await backend.repair_commit(name, generation, scan)


async def rebuild(
    backend: Backend, registry: Registry, token: str, stale_after: float, progress: Progress
) -> bool:
    """Scan every repository into a database already claimed with ``token``."""
    done = 0
    last: str | None = None
    progress.start("repositories")
    while True:
        names = await registry.catalog(CATALOG_PAGE, last, from_storage=True)
        for name in names:
            await repair(backend, registry, name, stale_after)
            done += 1
            progress.update(done)
            if done % HEARTBEAT_EVERY == 0 and not await backend.heartbeat(token, time.time()):
                progress.finish(done, "stopped: another rebuild took over")
                return False
        if len(names) < CATALOG_PAGE:
            break
        last = names[-1]
    finished = await backend.finish_build(token)
    progress.finish(done, "done" if finished else "stopped: another rebuild took over")
    return finished
