"""Removal primitives for garbage collection: what distribution's vacuum deletes, and how.

A collector decides *what* goes; this module knows *where* it lives. Each function removes
the same directory distribution 2.8's ``garbage-collect`` removes (the digest directory,
not only its ``link`` or ``data`` file), so both tools leave identical trees behind, and
reports a path that is already gone as ``False`` instead of failing: another collector
or a client's delete got there first, which is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pyregistry.storage import paths
from pyregistry.storage.context import StorageContext
from pyregistry.storage.digest import Digest
from pyregistry.storage.referrers import remove_referrer
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound


def _directory_of(link_or_data_path: str) -> str:
    return link_or_data_path.rsplit("/", 1)[0]


async def _delete(driver: StorageDriver, path: str) -> bool:
    try:
        await driver.delete(path)
    except PathNotFound:
        return False
    return True


async def read_manifest(driver: StorageDriver, digest: Digest) -> bytes | None:
    """The bytes of a manifest's blob; None when its data is missing."""
    try:
        return await driver.get_content(paths.blob_data_path(digest))
    except PathNotFound:
        return None


async def read_manifests(driver: StorageDriver, digests: Sequence[Digest]) -> list[bytes | None]:
    """:func:`read_manifest` of each digest, in one driver call."""
    return await driver.get_contents([paths.blob_data_path(digest) for digest in digests])


async def remove_manifest_revision(
    driver: StorageDriver,
    repository: str,
    digest: Digest,
    tags: Iterable[str] = (),
    subject: Digest | None = None,
) -> bool:
    """Unlink a manifest from ``repository``; False when its revision was already gone.

    As distribution does, every tag's history entry for the manifest goes first (tags
    that point at it *now* are never passed here), then the revision directory. Our
    referrers index entry for it goes too, so the referrers API never lists it.
    """
    for tag in tags:
        await _delete(driver, _directory_of(paths.tag_index_link_path(repository, tag, digest)))
    if subject is not None:
        await remove_referrer(StorageContext(driver=driver), repository, subject, digest)
    revision = _directory_of(paths.manifest_revision_link_path(repository, digest))
    return await _delete(driver, revision)


async def remove_layer_link(driver: StorageDriver, repository: str, digest: Digest) -> bool:
    """Remove ``repository``'s link to a blob; False when it was already gone."""
    return await _delete(driver, _directory_of(paths.layer_link_path(repository, digest)))


async def remove_layer_links(
    driver: StorageDriver, repository: str, digests: Sequence[Digest]
) -> Sequence[bool]:
    """:func:`remove_layer_link` for many, in one driver call (``delete_many``)."""
    link_dirs = [_directory_of(paths.layer_link_path(repository, d)) for d in digests]
    return await driver.delete_many(link_dirs)


async def remove_blobs(driver: StorageDriver, digests: Sequence[Digest]) -> Sequence[bool]:
    """:func:`remove_blob` for many, in one driver call (``delete_many``)."""
    return await driver.delete_many([paths.blob_path(d) for d in digests])


async def remove_blob(driver: StorageDriver, digest: Digest) -> bool:
    """Remove a blob from the global store (its whole directory); False if already gone."""
    return await _delete(driver, paths.blob_path(digest))


async def restore_link(driver: StorageDriver, kind: str, repository: str, digest: Digest) -> None:
    """Write back a ``layer`` link or ``manifest`` revision link a collector removed.

    An online collector does so when a manifest pushed meanwhile turns out to need it;
    the blob data is still there (links go before any data).
    """
    path = (
        paths.layer_link_path(repository, digest)
        if kind == "layer"
        else paths.manifest_revision_link_path(repository, digest)
    )
    await StorageContext(driver=driver).write_link(path, digest)
