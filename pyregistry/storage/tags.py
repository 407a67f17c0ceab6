"""Tags: ``_manifests/tags/<tag>/current/link`` names the manifest a tag points at now;
``index/<alg>/<hex>/link`` remembers every manifest it ever pointed at (distribution's)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from pyregistry.storage import paths
from pyregistry.storage.catalog import repository_exists
from pyregistry.storage.context import StorageContext, link_content
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import ManifestUnknown, NameUnknown
from pyregistry.storage.guard import guarded
from pyregistry.storage.names import TAG_PATTERN
from storage_drivers.errors import PathNotFound


def tag_links(repository: str, tag: str, digest: Digest) -> dict[str, bytes]:
    """The links that point ``tag`` at ``digest``, in the order they are written: the
    tag's index entry first, so the current link never names a digest the index lacks."""
    return {
        paths.tag_index_link_path(repository, tag, digest): link_content(digest),
        paths.tag_current_link_path(repository, tag): link_content(digest),
    }


@dataclass(frozen=True, slots=True)
class TagInfo:
    """A tag as storage has it: what it points at and when that was written."""

    tag: str
    digest: Digest
    pushed_at: datetime


def paginate(items: list[str], n: int | None, last: str | None) -> list[str]:
    """Sorted ``items`` strictly after ``last``, at most ``n`` (``n <= 0`` gives none)."""
    if last:
        items = [item for item in items if item > last]
    if n is not None:
        items = items[: max(n, 0)]
    return items


class TagStore:
    """One repository's tags: names pointing at manifest digests, as link files."""

    def __init__(self, ctx: StorageContext, repository: str) -> None:
        self._ctx = ctx
        self.repository = repository

    @guarded
    async def get(self, tag: str) -> Digest:
        """The digest ``tag`` points at; ManifestUnknown if there is no such tag."""
        target = await self._ctx.read_link(paths.tag_current_link_path(self.repository, tag))
        if target is None:
            raise ManifestUnknown(f"manifest tagged {tag!r} is not known", detail={"tag": tag})
        return target

    @guarded
    async def tag(self, tag: str, digest: Digest) -> None:
        """Point ``tag`` at a manifest of this repository (ManifestUnknown if it is not)."""
        links = tag_links(self.repository, tag, digest)  # checks the tag first
        revision = paths.manifest_revision_link_path(self.repository, digest)
        self._ctx.check_writable()
        if await self._ctx.read_link(revision) is None:
            raise ManifestUnknown(detail={"digest": str(digest)})
        async with self._ctx.change(self.repository) as change:
            await self._ctx.driver.put_contents(links)
            change.tagged(tag, digest)

    @guarded
    async def untag(self, tag: str) -> None:
        """Remove the tag (its whole directory); the manifest stays."""
        path = paths.tag_path(self.repository, tag)
        self._ctx.check_delete()
        if not await self._ctx.exists(path):
            raise ManifestUnknown(f"tag {tag!r} is not known", detail={"tag": tag})
        async with self._ctx.change(self.repository) as change:
            try:
                await self._ctx.driver.delete(path)
            except PathNotFound as exc:
                raise ManifestUnknown(f"tag {tag!r} is not known", detail={"tag": tag}) from exc
            change.untagged(tag)

    async def _all(self) -> list[str]:
        root = paths.tags_path(self.repository)
        try:
            children = await self._ctx.driver.list(root)
        except PathNotFound:
            return []
        names = [child.rpartition("/")[2] for child in children]
        return sorted(filter(TAG_PATTERN.fullmatch, names))

    @guarded
    async def list(
        self, n: int | None = None, last: str | None = None, *, from_storage: bool = False
    ) -> list[str]:
        """Tags in lexical order after ``last``, at most ``n``; NameUnknown for no repository.
        ``from_storage`` skips the metadata index (to build it)."""
        repository = paths.repository_path(self.repository)
        index = None if from_storage else self._ctx.index
        indexed = await index.tags(self.repository, n, last) if index is not None else None
        if indexed is not None:
            tags, total = indexed.tags, indexed.total
        else:
            tags = await self._all()
            total = len(tags)
            tags = paginate(tags, n, last)
        if not total and not await repository_exists(self._ctx, repository):
            raise NameUnknown(detail={"name": self.repository})
        return tags

    @guarded
    async def describe(self, tag: str) -> TagInfo | None:
        """The tag's digest and when its current link was written (None: no such tag)."""
        link = paths.tag_current_link_path(self.repository, tag)
        digest = await self._ctx.read_link(link)
        if digest is None:
            return None
        try:
            info = await self._ctx.driver.stat(link)
        except PathNotFound:
            return None
        return TagInfo(tag, digest, info.mod_time)

    @guarded
    async def lookup(self, digest: Digest) -> builtins.list[str]:
        """Every tag whose current link names ``digest``."""
        paths.check_digest(digest)
        found = []
        for tag in await self._all():
            target = await self._ctx.read_link(paths.tag_current_link_path(self.repository, tag))
            if target == digest:
                found.append(tag)
        return found
