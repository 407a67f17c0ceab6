"""Manifests of one repository: content in the blob store, visible through revision links.

Put order keeps half-done pushes invisible: content blob, then referrers entry, then the
revision link (the commit point). Delete removes the revision link first.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pyregistry.storage import enumerate as stored
from pyregistry.storage import paths
from pyregistry.storage.blobs import BlobStore, LinkedBlobStore
from pyregistry.storage.content_cache import ContentCache
from pyregistry.storage.context import StorageContext, link_content
from pyregistry.storage.descriptors import BlobDescriptor, PutManifestResult, StoredManifest
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import (
    BlobUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestTooLarge,
    ManifestUnknown,
)
from pyregistry.storage.guard import guarded, guarded_stream
from pyregistry.storage.manifest_format import (
    OCI_MANIFEST,
    ParsedManifest,
    infer_media_type,
    media_type_of,
    parse_manifest,
    raw_references,
    subject_of,
)
from pyregistry.storage.names import check_tag
from pyregistry.storage.referrers import add_referrer, remove_referrer
from pyregistry.storage.tags import TagStore, tag_links
from storage_drivers.errors import PathNotFound


class ManifestStore:
    """One repository's manifests, by digest; the referenced content must be there first."""

    def __init__(
        self,
        ctx: StorageContext,
        repository: str,
        blobs: LinkedBlobStore,
        global_store: BlobStore,
        tags: TagStore,
        content_cache: ContentCache | None = None,
    ) -> None:
        self._ctx = ctx
        self.repository = repository
        self._blobs = blobs
        self._global = global_store
        self._tags = tags
        #: manifest bytes by digest (immutable); the revision link is read every time
        self._cache = content_cache

    def _revision(self, digest: Digest) -> str:
        return paths.manifest_revision_link_path(self.repository, digest)

    def _unknown(self, digest: Digest) -> ManifestUnknown:
        return ManifestUnknown(detail={"digest": str(digest)})

    async def _content(self, digest: Digest) -> bytes:
        target = await self._ctx.read_link(self._revision(digest))
        if target is None:
            raise self._unknown(digest)
        if self._cache is not None:
            cached = self._cache.get(target)
            if cached is not None:
                return cached
        try:
            content = await self._ctx.driver.get_content(paths.blob_data_path(target))
        except PathNotFound as exc:
            raise self._unknown(digest) from exc
        if self._cache is not None:
            self._cache.put(target, content)
        return content

    @guarded
    async def get(self, digest: Digest, *, tag: str | None = None) -> StoredManifest:
        """The exact bytes pushed and the media type to serve them with (``tag``: the tag
        it was asked by, for wrappers that report pulls; unused here)."""
        content = await self._content(digest)
        return StoredManifest(digest, media_type_of(content), content)

    def enumerate(self) -> AsyncIterator[Digest]:
        """Every manifest revision stored here, tagged or not (garbage collection)."""
        revisions = stored.manifest_revisions(self._ctx.driver, self.repository, False)
        return guarded_stream(entry.digest async for entry in revisions)

    @guarded
    async def exists(self, digest: Digest) -> bool:
        target = await self._ctx.read_link(self._revision(digest))
        return target is not None and await self._global.stat(target) is not None

    @guarded
    async def put(
        self,
        content: bytes,
        media_type: str | None,
        *,
        digest: Digest | None = None,
        tags: Sequence[str] = (),
    ) -> PutManifestResult:
        """Validate and store a manifest, then point ``tags`` at it.

        Every rule is checked here, on one parse: size, the digest it was pushed by (which
        may be sha512), JSON and media type, the policy's layer URLs, and the references it
        needs (blobs; index children as the policy says). Tags are checked before anything
        is written.
        """
        self._ctx.check_writable()
        policy = self._ctx.policy
        tags = tuple(dict.fromkeys(check_tag(tag) for tag in tags))
        if digest is not None:
            paths.check_digest(digest)
        if len(content) > policy.max_manifest_size:
            limit = policy.max_manifest_size
            raise ManifestTooLarge(
                f"manifest is {len(content)} bytes, the limit is {limit}",
                detail={"size": len(content), "limit": limit},
            )
        actual = Digest.from_bytes(content, digest.algorithm if digest else "sha256")
        if digest is not None and actual != digest:
            raise DigestInvalid(
                f"manifest has digest {actual}, not {digest}",
                detail={"digest": str(digest), "expected": str(digest), "actual": str(actual)},
            )
        parsed = parse_manifest(content, media_type)
        if policy.enabled:
            policy.check_layer_urls(parsed)
        await self._check_references(parsed)
        subject = parsed.subject.digest if parsed.subject is not None else None
        served_as = infer_media_type(parsed.document) or OCI_MANIFEST
        blobs = [(blob.digest, blob.size) for blob in parsed.stored_blobs]
        # The data, the revision link and the tags' links in one driver call (one thread
        # hop on the filesystem, not five) and one index change (not one per tag), in the
        # order a crash must find them: nothing names the data before it is there.
        writes = await self._global.writes_for(content, actual)
        async with self._ctx.change(self.repository) as change:
            if subject is not None:
                await self._ctx.driver.put_contents(writes)
                writes = {}
                await add_referrer(self._ctx, self.repository, subject, actual)
            writes[self._revision(actual)] = link_content(actual)
            for tag in tags:
                writes.update(tag_links(self.repository, tag, actual))
            await self._ctx.driver.put_contents(writes)
            change.manifest_stored(actual, served_as, len(content), blobs)
            for tag in tags:
                change.tagged(tag, actual)
        await self._global.stored(BlobDescriptor(actual, len(content)))
        if self._cache is not None:
            self._cache.put(actual, content)
        own = parsed.document.get("mediaType")
        return PutManifestResult(
            actual,
            subject,
            media_type=own if isinstance(own, str) and own else media_type or parsed.media_type,
            size=len(content),
            tags=tags,
            references=raw_references(parsed.document),
        )

    async def _check_references(self, parsed: ParsedManifest) -> None:
        """Everything the manifest needs must already be in this repository."""
        if parsed.is_index:
            for child in self._ctx.policy.required_children(parsed):
                if not await self.exists(child.digest):
                    detail: dict[str, Any] = {"digest": str(child.digest)}
                    if child.platform is not None:
                        detail["platform"] = child.platform
                    raise ManifestBlobUnknown(
                        f"manifest {child.digest} is unknown to this repository", detail=detail
                    )
            return
        if not self._ctx.policy.blobs_required:
            return
        required = [parsed.config] if parsed.config is not None else []
        required += [layer for layer in parsed.layers if not layer.is_external]
        for descriptor in required:
            try:
                await self._blobs.stat(descriptor.digest)
            except BlobUnknown as exc:
                raise ManifestBlobUnknown(
                    f"blob {descriptor.digest} is unknown to this repository",
                    detail={"digest": str(descriptor.digest)},
                ) from exc

    @guarded
    async def delete(self, digest: Digest) -> None:
        """Delete a manifest: its revision link, every tag on it, its referrers entry."""
        revision = self._revision(digest)
        self._ctx.check_delete()
        target = await self._ctx.read_link(revision)
        if target is None:
            raise self._unknown(digest)
        try:
            content: bytes | None = await self._ctx.driver.get_content(paths.blob_data_path(target))
        except PathNotFound:
            content = None  # dangling revision link: still deletable
        async with self._ctx.change(self.repository) as change:
            try:
                await self._ctx.driver.delete(revision)
            except PathNotFound as exc:
                raise self._unknown(digest) from exc
            if self._cache is not None:
                self._cache.discard(target)  # only memory: every GET reads the revision link
            subject = subject_of(content) if content is not None else None
            if subject is not None:
                await remove_referrer(self._ctx, self.repository, subject, digest)
            for tag in await self._tags.lookup(digest):
                with contextlib.suppress(PathNotFound):
                    await self._ctx.driver.delete(paths.tag_path(self.repository, tag))
            change.manifest_deleted(digest)
