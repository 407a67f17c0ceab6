"""The catalog: every repository under ``repositories/``, nested names included.

A directory is a repository when it holds ``_manifests``, ``_layers`` or ``_uploads``;
the walk never descends into ``_*`` directories (they are repository internals) but does
descend into other children, since ``a`` and ``a/b`` may both be repositories. Order is
distribution's: path components compared in turn (``a`` < ``a/b`` < ``a-b``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pyregistry.storage import paths
from pyregistry.storage.context import StorageContext
from pyregistry.storage.names import NAME_PATTERN
from storage_drivers.errors import PathNotFound

REPOSITORY_MARKERS = ("_manifests", "_layers", "_uploads")


def path_order(name: str) -> str:
    """Sort key making ``/`` sort before every other character, as distribution does."""
    return name.replace("/", "\x00")


async def repository_exists(ctx: StorageContext, repository_path: str) -> bool:
    """Whether ``repository_path`` holds ``_manifests``, ``_layers`` or ``_uploads``."""
    try:
        children = await ctx.driver.list(repository_path)
    except PathNotFound:
        return False
    return any(child.rsplit("/", 1)[-1] in REPOSITORY_MARKERS for child in children)


async def iter_repositories(ctx: StorageContext, after: str | None = None) -> AsyncIterator[str]:
    """Yield repository names in catalog order, only those sorting after ``after``."""
    async for name in _walk(ctx, paths.REPOSITORIES_ROOT, "", after):
        yield name


async def _walk(
    ctx: StorageContext, directory: str, prefix: str, after: str | None
) -> AsyncIterator[str]:
    try:
        children = await ctx.driver.list(directory)
    except PathNotFound:
        return
    bases = [child.rsplit("/", 1)[-1] for child in children]
    is_repository = prefix and any(base in REPOSITORY_MARKERS for base in bases)
    if is_repository and (after is None or path_order(prefix) > path_order(after)):
        yield prefix
    for child, base in zip(children, bases, strict=True):
        if base.startswith("_"):
            continue
        name = f"{prefix}/{base}" if prefix else base
        if not NAME_PATTERN.fullmatch(name):
            continue  # not a valid repository name: nothing below can be one either
        # Skip subtrees that sort entirely before ``after``.
        if after is not None and not _may_follow(name, after):
            continue
        async for found in _walk(ctx, child, name, after):
            yield found


def _may_follow(name: str, after: str) -> bool:
    """False when ``name`` and everything below it sort at or before ``after``."""
    key, last = path_order(name), path_order(after)
    return key > last or last.startswith(key + "\x00") or key == last


async def catalog(ctx: StorageContext, n: int | None = None, last: str | None = None) -> list[str]:
    """At most ``n`` repository names after ``last`` (``n <= 0`` gives none)."""
    if n is not None and n <= 0:
        return []
    names: list[str] = []
    async for name in iter_repositories(ctx, last or None):
        names.append(name)
        if n is not None and len(names) >= n:
            break
    return names
