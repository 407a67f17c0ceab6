"""The referrers index: which manifests of a repository name a given ``subject``.

Our addition to distribution's layout (distribution 2.8 has no referrers API):
``_manifests/referrers/<subject alg>/<subject hex>/<alg>/<hex>/link``. Entries are written
before the revision link that makes a manifest visible, and read back only while that
revision link exists, so a half-finished push or delete never shows up.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pyregistry.storage import paths
from pyregistry.storage.context import StorageContext
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import DigestInvalid
from pyregistry.storage.manifest_format import referrer_descriptor
from storage_drivers.errors import PathNotFound


async def add_referrer(
    ctx: StorageContext, repository: str, subject: Digest, digest: Digest
) -> None:
    await ctx.write_link(paths.referrer_link_path(repository, subject, digest), digest)


async def remove_referrer(
    ctx: StorageContext, repository: str, subject: Digest, digest: Digest
) -> None:
    with contextlib.suppress(PathNotFound):
        await ctx.driver.delete(paths.referrer_entry_path(repository, subject, digest))


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


async def _entries(ctx: StorageContext, repository: str, subject: Digest) -> list[Digest]:
    """Digests indexed under ``subject`` (whatever algorithm), in storage order.

    Directory names that are not a valid ``<alg>/<hex>`` (foreign files) are skipped.
    """
    found: list[Digest] = []
    try:
        algorithm_dirs = await ctx.driver.list(paths.referrers_path(repository, subject))
    except PathNotFound:
        return found
    for algorithm_dir in algorithm_dirs:
        try:
            entries = await ctx.driver.list(algorithm_dir)
        except PathNotFound:
            continue
        for entry in entries:
            try:
                digest = paths.check_digest(Digest(_base(algorithm_dir), _base(entry)))
            except DigestInvalid:
                continue
            target = await ctx.read_link(paths.referrer_link_path(repository, subject, digest))
            if target is not None:
                found.append(target)
    return found


async def list_referrers(
    ctx: StorageContext, repository: str, subject: Digest, artifact_type: str | None = None
) -> list[dict[str, Any]]:
    """OCI descriptors of the live manifests whose subject is ``subject``."""
    results: list[dict[str, Any]] = []
    for digest in await _entries(ctx, repository, subject):
        revision = paths.manifest_revision_link_path(repository, digest)
        if await ctx.read_link(revision) != digest:
            continue  # the manifest was deleted (or is not yet visible)
        try:
            content = await ctx.driver.get_content(paths.blob_data_path(digest))
        except PathNotFound:
            continue
        descriptor = referrer_descriptor(digest, content, artifact_type)
        if descriptor is not None:
            results.append(descriptor)
    return results
