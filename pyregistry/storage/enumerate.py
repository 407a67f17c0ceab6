"""Enumerators: everything the storage holds, streamed, for whole-registry tools.

Garbage collection (and later storage usage and retention) must visit every repository,
every manifest revision, every layer link and every blob without loading the store into
memory. Each function here is an async iterator over the driver's ``list``/``walk`` (one
paginated listing on object stores, never a stat per object) and builds its paths only
through :mod:`pyregistry.storage.paths`. Entries whose names are not a valid digest are
foreign files: they are skipped, as distribution skips them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from pyregistry.storage import paths
from pyregistry.storage.catalog import iter_repositories
from pyregistry.storage.context import StorageContext
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import DigestInvalid, RegistryError
from pyregistry.storage.names import TAG_PATTERN
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound

#: Link files read concurrently by one enumerator.
READ_BATCH = 32


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """A link file found by a walk: the digest its path names and the one it holds.

    ``target`` is None when the file does not hold a digest (or was not read: see
    ``read_targets``); a caller that must not guess treats that as unreadable.
    """

    digest: Digest
    target: Digest | None
    path: str
    #: When the link file was last written (seconds since the epoch), from the listing.
    modified: float = 0.0


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob's ``data`` in the global store and its size in bytes."""

    digest: Digest
    size: int
    #: When its data was last written (seconds since the epoch), from the listing.
    modified: float = 0.0


@dataclass(frozen=True, slots=True)
class TagEntry:
    """A tag and the manifest its ``current/link`` names (None: missing or unreadable)."""

    tag: str
    target: Digest | None


def _digest_from_dirs(algorithm: str, hex_part: str) -> Digest | None:
    try:
        return paths.check_digest(Digest(algorithm, hex_part))
    except (DigestInvalid, RegistryError):
        return None


async def repositories(driver: StorageDriver) -> AsyncIterator[str]:
    """Every repository name, in catalog order."""
    async for name in iter_repositories(StorageContext(driver=driver)):
        yield name


async def _links(driver: StorageDriver, root: str, read_targets: bool) -> AsyncIterator[LinkEntry]:
    """``<root>/<alg>/<hex>/link`` files below ``root``; nothing when ``root`` is missing.

    Link contents are read ``READ_BATCH`` at a time, concurrently: on an object store
    each is a request, and reading them one by one is what makes collections slow.
    """
    ctx = StorageContext(driver=driver)
    batch: list[tuple[Digest, str, float]] = []

    async def resolve() -> list[LinkEntry]:
        if not read_targets:
            return [LinkEntry(digest, None, path, when) for digest, path, when in batch]
        targets = await ctx.read_links([path for _, path, _ in batch])
        return [LinkEntry(d, t, p, m) for (d, p, m), t in zip(batch, targets, strict=True)]

    try:
        async for info in driver.find_files(root, "link", 2):  # <algorithm>/<hex>/link
            parts = info.path[len(root) + 1 :].split("/")
            digest = _digest_from_dirs(parts[0], parts[1]) if len(parts) == 3 else None
            if digest is None:
                continue
            batch.append((digest, info.path, info.mod_time.timestamp()))
            if len(batch) >= READ_BATCH:
                for entry in await resolve():
                    yield entry
                batch = []
    except PathNotFound:
        pass
    for entry in await resolve():
        yield entry


def _revisions_root(repository: str) -> str:
    return f"{paths.manifests_path(repository)}/revisions"


async def manifest_revisions(
    driver: StorageDriver, repository: str, read_targets: bool = True
) -> AsyncIterator[LinkEntry]:
    """Every manifest revision link of ``repository`` (tagged or not)."""
    async for entry in _links(driver, _revisions_root(repository), read_targets):
        yield entry


async def layer_links(
    driver: StorageDriver, repository: str, read_targets: bool = False
) -> AsyncIterator[LinkEntry]:
    """Every blob link in ``repository``'s ``_layers`` (the digest its path names)."""
    async for entry in _links(driver, paths.layers_path(repository), read_targets):
        yield entry


async def linked_digests(driver: StorageDriver, repository: str) -> AsyncIterator[Digest]:
    """The digest of every blob directory in ``repository``'s ``_layers``, from listings
    alone (no read or stat per link): all a sweep of layer links needs. A directory whose
    ``link`` file is missing is named too; removing it removes nothing but a remnant."""
    try:
        algorithms = await driver.list(paths.layers_path(repository))
    except PathNotFound:
        return
    for directory in algorithms:
        try:
            children = await driver.list(directory)
        except PathNotFound:
            continue
        algorithm = directory.rsplit("/", 1)[-1]
        for child in children:
            digest = _digest_from_dirs(algorithm, child.rsplit("/", 1)[-1])
            if digest is not None:
                yield digest


async def tags(driver: StorageDriver, repository: str) -> AsyncIterator[TagEntry]:
    """Every tag of ``repository`` with the manifest it currently points at."""
    ctx = StorageContext(driver=driver)
    try:
        children = await driver.list(paths.tags_path(repository))
    except PathNotFound:
        return
    for child in children:
        tag = child.rsplit("/", 1)[-1]
        if not TAG_PATTERN.fullmatch(tag):
            continue
        yield TagEntry(tag, await ctx.read_link(paths.tag_current_link_path(repository, tag)))


async def blobs(
    driver: StorageDriver, leave_out: AbstractSet[Digest] = frozenset()
) -> AsyncIterator[StoredBlob]:
    """Every blob in the global store that has ``data`` (distribution's criterion), but
    those in ``leave_out``: the filesystem then spares their ``stat`` (a collection
    lists the blob store for what it did not mark; half a store's blobs, often more)."""
    root = paths.BLOBS_ROOT
    names = {digest.hex for digest in leave_out}  # lengths tell algorithms apart
    skip = names.__contains__ if names else None
    try:
        async for info in driver.find_files(root, "data", 3, skip):  # <alg>/<xx>/<hex>/data
            parts = info.path[len(root) + 1 :].split("/")
            if len(parts) != 4 or not parts[2].startswith(parts[1]):
                continue
            digest = _digest_from_dirs(parts[0], parts[2])
            if digest is not None and digest not in leave_out:
                yield StoredBlob(digest, info.size, info.mod_time.timestamp())
    except PathNotFound:
        return


async def tag_index_entries(
    driver: StorageDriver, repository: str
) -> AsyncIterator[tuple[str, Digest]]:
    """``(tag, digest)`` for every manifest a tag ever pointed at (its ``index/`` history)."""
    try:
        children = await driver.list(paths.tags_path(repository))
    except PathNotFound:
        return
    for child in children:
        tag = child.rsplit("/", 1)[-1]
        if not TAG_PATTERN.fullmatch(tag):
            continue
        async for entry in _links(driver, f"{paths.tag_path(repository, tag)}/index", False):
            yield tag, entry.digest
