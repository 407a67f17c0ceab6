"""Manifests of one repository: content in the blob store, visible through revision links.

Put order keeps half-done pushes invisible: content blob, then referrers entry, then the
revision link (the commit point). Delete removes the revision link first.
"""

from __future__ import annotations

from pyregistry.storage import paths
from pyregistry.storage.blobs import BlobStore, LinkedBlobStore
from pyregistry.storage.content_cache import ContentCache
from pyregistry.storage.context import StorageContext
from pyregistry.storage.descriptors import PutManifestResult, StoredManifest
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import (
    BlobUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestTooLarge,
    ManifestUnknown,
)
from pyregistry.storage.guard import guarded
from pyregistry.storage.manifest_format import (
    OCI_MANIFEST,
    ParsedManifest,
    infer_media_type,
    media_type_of,
    parse_manifest,
    subject_of,
)
from pyregistry.storage.referrers import add_referrer, remove_referrer
from pyregistry.storage.tags import TagStore
from storage_drivers.errors import PathNotFound

#: distribution 3's default limit; larger manifests are refused before parsing.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024


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
    async def get(self, digest: Digest) -> StoredManifest:
        """The exact bytes pushed and the media type to serve them with."""
        content = await self._content(digest)
        return StoredManifest(digest, media_type_of(content), content)

    @guarded
    async def exists(self, digest: Digest) -> bool:
        target = await self._ctx.read_link(self._revision(digest))
        return target is not None and await self._global.stat(target) is not None

    @guarded
    async def put(
        self, content: bytes, media_type: str | None, *, digest: Digest | None = None
    ) -> PutManifestResult:
        """Validate and store a manifest.

        ``digest`` (an addition to the contract) is the digest reference it was pushed by,
        if any: the content must match it, and it may be sha512.
        """
        self._ctx.check_writable()
        if digest is not None:
            paths.check_digest(digest)
        if len(content) > MAX_MANIFEST_SIZE:
            raise ManifestTooLarge(
                f"manifest is {len(content)} bytes, the limit is {MAX_MANIFEST_SIZE}",
                detail={"size": len(content), "limit": MAX_MANIFEST_SIZE},
            )
        parsed = parse_manifest(content, media_type)
        await self._check_references(parsed)
        actual = Digest.from_bytes(content, digest.algorithm if digest else "sha256")
        if digest is not None and actual != digest:
            raise DigestInvalid(
                f"manifest has digest {actual}, not {digest}", detail={"digest": str(digest)}
            )
        await self._global.put(content, actual.algorithm)
        subject = parsed.subject.digest if parsed.subject is not None else None
        async with self._ctx.change(self.repository) as change:
            if subject is not None:
                await add_referrer(self._ctx, self.repository, subject, actual)
            await self._ctx.write_link(self._revision(actual), actual)
            served_as = infer_media_type(parsed.document) or OCI_MANIFEST
            change.manifest_stored(actual, served_as, len(content))
        if self._cache is not None:
            self._cache.put(actual, content)
        return PutManifestResult(actual, subject)

    async def _check_references(self, parsed: ParsedManifest) -> None:
        """Everything the manifest needs must already be in this repository."""
        if parsed.is_index:
            if not self._ctx.validate_index_children:
                return
            for child in parsed.manifests:
                if not await self.exists(child.digest):
                    raise ManifestBlobUnknown(
                        f"manifest {child.digest} is unknown to this repository",
                        detail={"digest": str(child.digest)},
                    )
            return
        if not self._ctx.validate_manifest_blobs:
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
                try:
                    await self._ctx.driver.delete(paths.tag_path(self.repository, tag))
                except PathNotFound:
                    pass
            change.manifest_deleted(digest)
