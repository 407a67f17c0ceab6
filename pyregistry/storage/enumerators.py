"""Enumerators over the store itself: every blob of the global store, every manifest
revision of a repository (garbage collection marks from the second and sweeps the first).

They read the driver's tree (``walk``), never an index or a cache, so they see exactly
what is stored, including content no tag or link names any more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pyregistry.storage import paths
from pyregistry.storage.context import StorageContext
from pyregistry.storage.digest import ALGORITHMS, Digest
from pyregistry.storage.errors import DigestInvalid
from storage_drivers.errors import PathNotFound


async def _digests(ctx: StorageContext, root: str, leaf: str) -> AsyncIterator[Digest]:
    """Digests of every ``<root>/<alg>/.../<hex>/<leaf>`` file, in lexical order per
    algorithm; directories that are not a valid digest are skipped."""
    for algorithm in sorted(ALGORITHMS):
        top = f"{root}/{algorithm}"
        try:
            async for info in ctx.driver.walk(top):
                if info.is_dir or not info.path.endswith(f"/{leaf}"):
                    continue
                hex_part = info.path.rsplit("/", 2)[-2]
                try:
                    yield paths.check_digest(Digest(algorithm, hex_part))
                except DigestInvalid:
                    continue
        except PathNotFound:
            continue


def enumerate_blobs(ctx: StorageContext) -> AsyncIterator[Digest]:
    """Every blob with data in the global store (``blobs/<alg>/<xx>/<hex>/data``)."""
    return _digests(ctx, paths.BLOBS_ROOT, "data")


def enumerate_manifests(ctx: StorageContext, repository: str) -> AsyncIterator[Digest]:
    """Every manifest revision of ``repository`` (``_manifests/revisions/<alg>/<hex>/link``)."""
    return _digests(ctx, paths.manifest_revisions_path(repository), "link")
