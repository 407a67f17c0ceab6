"""A mirrored repository's manifests and tags.

A manifest by digest never changes: once fetched it is served from the cache. A tag is
served from the cache while younger than the upstream's tag ``ttl`` (0: never), then
re-checked with a HEAD (cheap, and not counted by Docker Hub's pull limits); when the
upstream moved it, the new manifest is fetched and the tag follows. With the upstream
down, answering 5xx or 404, the cached tag stands. Only the manifest asked for is
fetched: pulling one platform of an index caches the index and that platform only.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pyregistry.client import Manifest
from pyregistry.client.errors import NotFoundError
from pyregistry.proxy import metrics
from pyregistry.proxy.errors import UPSTREAM_FAILURES, translate
from pyregistry.proxy.fetch_leases import manifest_key
from pyregistry.proxy.part import FetchingPart, MirroredPart
from pyregistry.proxy.pulls import PullClock
from pyregistry.proxy.tag_checks import TagChecks
from pyregistry.storage import (
    Digest,
    ManifestUnknown,
    NameUnknown,
    PutManifestResult,
    RegistryError,
    StoredManifest,
)
from pyregistry.storage.manifest_format import media_type_of
from pyregistry.storage.tags import TagInfo, paginate
from pyregistry.tasks.lease import Lease, renewing

log = logging.getLogger("pyregistry.proxy")


class MirroredManifests(FetchingPart):
    """Manifests by digest, fetched from the upstream on a miss and cached: once however
    many pull one at once, in this process or in others sharing the storage."""

    def __init__(self, *args: Any, pulls: PullClock | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pulls = pulls if self._upstream.settings.expires else None

    def pulled(self, digest: Digest) -> None:
        """Note a pull of ``digest`` (memory only), which keeps it from expiring."""
        if self._pulls is not None:
            self._pulls.pulled(self.repository, str(digest), self._upstream.settings.expire)

    async def _lookup(self, digest: Digest) -> StoredManifest | None:
        try:
            return await self._cache.manifests.get(digest)
        except ManifestUnknown:
            return None

    async def get(self, digest: Digest, *, tag: str | None = None) -> StoredManifest:
        found = await self._lookup(digest)  # a hit: one look-up, as for a local pull
        if found is None:
            found = await self._miss(digest)
        else:
            metrics.HITS.labels(self._upstream.label, "manifest").inc()
        self.pulled(digest)
        return found

    async def _miss(self, digest: Digest) -> StoredManifest:
        """Not cached a moment ago: fetched here, unless a fetch elsewhere cached it (or,
        in this process, is storing it)."""
        found: StoredManifest | None = None
        key = manifest_key(self.repository, digest)

        async def present() -> bool:
            nonlocal found
            found = self._flights.shared(key) or await self._lookup(digest)
            return found is not None

        unknown = ManifestUnknown(detail={"reference": str(digest)})
        lease = await self._claim(key, present, unknown)
        if lease is None:
            assert found is not None
            metrics.HITS.labels(self._upstream.label, "manifest").inc()
            return found
        fetched: asyncio.Future[StoredManifest] = asyncio.get_running_loop().create_future()
        fetched.add_done_callback(_seen)
        lead = self._flights.spawn(
            self._lead(key, lease, digest, fetched), name=f"mirror-fetch-{self.repository}"
        )
        lead.add_done_callback(lambda _: fetched.cancel())  # ended unanswered: cancelled
        return await asyncio.shield(fetched)

    async def _lead(
        self, key: str, lease: Lease, digest: Digest, fetched: asyncio.Future[StoredManifest]
    ) -> None:
        """The fetch of ``digest`` in a task of its own, holding ``lease`` and the flight:
        ``fetched`` is answered once the manifest is verified; the copy is stored after,
        and only then do the lease and the flight go (so no other pull fetches it
        meanwhile). A client that hangs up does not cancel it."""
        async with renewing(lease):
            with self._flights.lead(key):
                try:
                    manifest = await self._download(str(digest), expect=digest)
                except Exception as exc:  # noqa: BLE001 - the pull's error, raised there
                    if not fetched.done():
                        fetched.set_exception(exc)
                    return
                except BaseException:
                    fetched.cancel()
                    raise
                answer = _stored(manifest)
                self._flights.share(key, answer)
                if not fetched.done():
                    fetched.set_result(answer)
                await self._keep(manifest)

    async def _download(self, reference: str, *, expect: Digest | None = None) -> Manifest:
        """The manifest from the upstream, verified (against ``expect`` too)."""
        unknown = ManifestUnknown(detail={"reference": reference})
        if not self._upstream.settings.allows(self._remote):
            raise unknown
        metrics.MISSES.labels(self._upstream.label, "manifest").inc()
        try:
            fetched = await self._upstream.get_manifest(self._remote, reference)
        except UPSTREAM_FAILURES as exc:
            raise translate(exc, self._upstream.label, unknown) from None
        if expect is not None and Digest.parse(fetched.digest) != expect:
            raise unknown
        return fetched

    async def _keep(self, fetched: Manifest) -> None:
        """Cache a fetched manifest; served all the same when it cannot be kept."""
        digest = Digest.parse(fetched.digest)
        try:
            await self._cache.manifests.put(fetched.content, fetched.media_type, digest=digest)
        except RegistryError as exc:
            log.warning("not caching manifest %s@%s: %s", self.repository, digest, exc.message)

    async def fetch(self, reference: str) -> StoredManifest:
        """Fetch a manifest by tag from the upstream (verified) and cache it."""
        fetched = await self._download(reference)
        await self._keep(fetched)
        return _stored(fetched)

    async def stored(self, digest: Digest) -> None:
        """Wait for a fetch of ``digest`` in this process, if any, to store it."""
        await self._flights.ended(manifest_key(self.repository, digest))

    def after_stored(self, digest: Digest, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` in the background once :meth:`stored` (a tag is written after the
        manifest it points to)."""

        async def then() -> None:
            await self.stored(digest)
            await work()

        self._flights.spawn(then(), name=f"mirror-keep-{self.repository}")

    async def exists(self, digest: Digest) -> bool:
        if self._flights.shared(manifest_key(self.repository, digest)) is not None:
            return True
        return bool(await self._cache.manifests.exists(digest))

    async def put(
        self,
        content: bytes,
        media_type: str | None,
        *,
        digest: Digest | None = None,
        **options: Any,
    ) -> PutManifestResult:
        return await self._writable().manifests.put(content, media_type, digest=digest, **options)

    async def delete(self, digest: Digest) -> None:
        await self._writable().manifests.delete(digest)

    def enumerate(self) -> AsyncIterator[Digest]:
        manifests: Any = self._cache.manifests  # enumerate: part of the storage Protocols
        result: AsyncIterator[Digest] = manifests.enumerate()
        return result


def _stored(fetched: Manifest) -> StoredManifest:
    media_type = media_type_of(fetched.content) or fetched.media_type
    return StoredManifest(Digest.parse(fetched.digest), media_type, fetched.content)


def _seen(fetched: asyncio.Future[StoredManifest]) -> None:
    """Retrieve a fetch's error even when its pull went away before it came."""
    if not fetched.cancelled():
        fetched.exception()


def _age_seconds(info: TagInfo) -> float:
    pushed = info.pushed_at
    if pushed.tzinfo is None:
        pushed = pushed.replace(tzinfo=UTC)
    return (datetime.now(UTC) - pushed).total_seconds()


class MirroredTags(MirroredPart):
    """Tags of a mirrored repository, re-checked upstream after the tag ``ttl``."""

    def __init__(self, manifests: MirroredManifests, checks: TagChecks | None = None) -> None:
        super().__init__(*manifests.placement)
        self._manifests = manifests
        self._checks = checks if checks is not None else TagChecks()

    async def get(self, tag: str) -> Digest:
        """The tag's manifest (a HEAD by tag is a pull too: it keeps the manifest)."""
        digest = await self._resolve(tag)
        self._manifests.pulled(digest)
        return digest

    async def _resolve(self, tag: str) -> Digest:
        settings = self._upstream.settings
        ttl = settings.tag_ttl
        if self._local is not None or (ttl and self._checks.trusted(self.repository, tag)):
            try:  # served as stored: one read, as for a local pull
                return await self._cache.tags.get(tag)
            except ManifestUnknown:
                self._checks.forget(self.repository, tag)
        info = await self._cache.tags.describe(tag)
        if info is not None and self._local is not None:
            return info.digest
        if info is not None and ttl and (age := _age_seconds(info)) < ttl:
            self._checks.trust(self.repository, tag, min(ttl - age, ttl))
            return info.digest
        if not settings.allows(self._remote):
            if info is not None:
                return info.digest
            raise ManifestUnknown(detail={"tag": tag})
        try:
            head = await self._upstream.head_manifest(self._remote, tag)
        except UPSTREAM_FAILURES as exc:
            if info is not None:
                return info.digest  # the upstream is down: the last good check stands
            raise translate(
                exc, self._upstream.label, ManifestUnknown(detail={"tag": tag})
            ) from None
        if head is None:
            if info is not None:
                return info.digest
            raise ManifestUnknown(detail={"tag": tag})
        if head.digest and info is not None and head.digest == str(info.digest) and not ttl:
            return info.digest  # unchanged, and nothing to refresh
        if head.digest:  # by digest: from the cache, or one fetch however many ask
            digest = (await self._manifests.get(Digest.parse(head.digest))).digest
        else:
            digest = (await self._manifests.fetch(tag)).digest
        if ttl:  # the tag's age counts from its write: written before the answer
            await self._manifests.stored(digest)
            await self._keep(tag, digest)
        else:  # re-checked upstream on every pull anyway: written after the answer
            self._manifests.after_stored(digest, lambda: self._keep(tag, digest))
        return digest

    async def _keep(self, tag: str, digest: Digest) -> None:
        """Cache the tag (which also restarts its ttl), once its manifest is stored."""
        try:
            await self._cache.tags.tag(tag, digest)
        except RegistryError as exc:
            log.warning("not caching tag %s:%s: %s", self.repository, tag, exc.message)
        else:
            if ttl := self._upstream.settings.tag_ttl:
                self._checks.trust(self.repository, tag, ttl)

    async def tag(self, tag: str, digest: Digest) -> None:
        await self._writable().tags.tag(tag, digest)

    async def untag(self, tag: str) -> None:
        await self._writable().tags.untag(tag)

    async def list(self, n: int | None = None, last: str | None = None) -> builtins.list[str]:
        """The upstream's tags (and local ones when local-first); the cached ones when
        the upstream cannot answer."""
        try:
            upstream = await self._upstream.client.tags(self._remote)
        except NotFoundError:
            upstream = []
        except UPSTREAM_FAILURES as exc:
            log.warning("upstream %s: tags of %s: %s", self._upstream.label, self._remote, exc)
            return await self._cache.tags.list(n, last)
        local: Sequence[str] = ()
        if self._local is not None or not upstream:
            try:
                local = await self._cache.tags.list()
            except NameUnknown:
                if not upstream:
                    raise
        return paginate(sorted(set(upstream) | set(local)), n, last)

    async def lookup(self, digest: Digest) -> builtins.list[str]:
        return await self._cache.tags.lookup(digest)

    async def describe(self, tag: str) -> TagInfo | None:
        return await self._cache.tags.describe(tag)
