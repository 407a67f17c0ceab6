"""The entry point of the storage layer: a Registry over one driver, and its repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pyregistry.storage import catalog as _catalog
from pyregistry.storage import paths
from pyregistry.storage.blobs import BlobStore, LinkedBlobStore
from pyregistry.storage.cache import BlobDescriptorCache
from pyregistry.storage.content_cache import ContentCache
from pyregistry.storage.context import StorageContext
from pyregistry.storage.descriptors import BlobDescriptor
from pyregistry.storage.digest import Digest
from pyregistry.storage.guard import guarded, guarded_stream
from pyregistry.storage.manifests import ManifestStore
from pyregistry.storage.metadata import MetadataIndex
from pyregistry.storage.names import check_name
from pyregistry.storage.policy import INDEXES_ALL, INDEXES_NONE, ManifestPolicy
from pyregistry.storage.purge import purge_uploads as _purge_uploads
from pyregistry.storage.referrers import list_referrers
from pyregistry.storage.session_lock import LocalUploadLocks, UploadLocks
from pyregistry.storage.tags import TagStore
from pyregistry.storage.uploads import UploadStore
from storage_drivers.base import StorageDriver
from storage_drivers.redirects import RedirectMiddleware


class Registry:
    """Registry semantics (distribution's) over any storage driver.

    ``policy``: the deployment's manifest rules (the config's ``validation`` section),
    checked by every manifest put. ``validate_index_children=False`` and
    ``validate_manifest_blobs=False`` are shorthands for a policy accepting sparse indexes
    and sparse manifests (children, config and layers this repository does not have).
    ``upload_locks`` keeps writers of one upload session apart; the default covers this
    process only (see ``session_lock.py``), the served app passes one that reaches across
    processes. ``index``: the metadata index told of every write (``metadata.py``).
    ``redirects``: what a blob's redirect URL becomes (``middleware.storage``).
    """

    def __init__(
        self,
        driver: StorageDriver,
        *,
        delete_enabled: bool = True,
        redirect: bool = True,
        redirects: tuple[RedirectMiddleware, ...] = (),
        readonly: bool = False,
        blob_descriptor_cache: BlobDescriptorCache | None = None,
        policy: ManifestPolicy | None = None,
        validate_index_children: bool = True,
        upload_locks: UploadLocks | None = None,
        validate_manifest_blobs: bool = True,
        index: MetadataIndex | None = None,
    ) -> None:
        if policy is None:
            policy = ManifestPolicy(
                index_platforms=INDEXES_ALL if validate_index_children else INDEXES_NONE,
                sparse=not validate_manifest_blobs,
            )
        self._ctx = StorageContext(
            driver=driver,
            delete_enabled=delete_enabled,
            redirect=redirect,
            redirects=redirects,
            readonly=readonly,
            cache=blob_descriptor_cache,
            policy=policy,
            upload_locks=upload_locks if upload_locks is not None else LocalUploadLocks(),
            index=index,
        )
        if index is not None:
            index.attach(self)
        self._blob_store = BlobStore(self._ctx)
        self._manifest_cache = ContentCache()

    @property
    def driver(self) -> StorageDriver:
        return self._ctx.driver

    @property
    def delete_enabled(self) -> bool:
        return self._ctx.delete_enabled

    @property
    def readonly(self) -> bool:
        return self._ctx.readonly

    @property
    def redirect(self) -> bool:
        return self._ctx.redirect

    @property
    def policy(self) -> ManifestPolicy:
        return self._ctx.policy

    @property
    def blob_descriptor_cache(self) -> BlobDescriptorCache | None:
        return self._ctx.cache

    @property
    def blob_store(self) -> BlobStore:
        """The global blob store (for garbage collection and tooling)."""
        return self._blob_store

    @property
    def min_chunk_size(self) -> int:
        """The smallest chunk the driver takes in a chunked upload (0: any)."""
        return int(getattr(self._ctx.driver, "min_chunk_size", 0) or 0)

    def repositories(self, after: str | None = None) -> AsyncIterator[str]:
        """Every repository name in catalog order after ``after`` (GC, replication)."""
        return guarded_stream(_catalog.iter_repositories(self._ctx, after))

    def repository(self, name: str) -> Repository:
        """The repository ``name`` (it need not exist yet); NameInvalid on bad grammar."""
        return Repository(self._ctx, check_name(name), self._blob_store, self._manifest_cache)

    @guarded
    async def catalog(
        self, n: int | None = None, last: str | None = None, *, from_storage: bool = False
    ) -> list[str]:
        """Repository names after ``last`` (``from_storage``: walk storage, not the index)."""
        if self._ctx.index is not None and not from_storage and (n is None or n > 0):
            indexed = await self._ctx.index.catalog(n, last or None)
            if indexed is not None:
                return indexed
        return await _catalog.catalog(self._ctx, n, last)

    @property
    def index(self) -> MetadataIndex | None:
        """The metadata index answering listings (None: storage is walked every time)."""
        return self._ctx.index

    def forget_content(self, digest: Digest) -> None:
        """Drop ``digest`` from this process's manifest content cache (garbage collected)."""
        self._manifest_cache.discard(digest)

    async def stat_blob(self, digest: Digest) -> BlobDescriptor | None:
        """The blob in the global store, whatever repository links it."""
        return await self._blob_store.stat(digest)

    @guarded
    async def purge_uploads(self, older_than_seconds: float, dry_run: bool = False) -> int:
        """Remove upload sessions older than the cut-off; returns how many (would be) purged."""
        return await _purge_uploads(self._ctx, older_than_seconds, dry_run)

    async def close(self) -> None:
        """Release the driver's, the cache's and the index's resources."""
        await self._ctx.upload_locks.close()
        if self._ctx.index is not None:
            await self._ctx.index.close()
        await self._ctx.driver.close()
        close_cache = getattr(self._ctx.cache, "close", None)
        if close_cache is not None:
            await close_cache()


class Repository:
    """One repository's blobs, uploads, manifests and tags."""

    def __init__(
        self,
        ctx: StorageContext,
        name: str,
        blob_store: BlobStore,
        manifest_cache: ContentCache | None = None,
    ) -> None:
        self._ctx = ctx
        self.name = name
        self.blobs = LinkedBlobStore(ctx, name, blob_store)
        self.uploads = UploadStore(ctx, name, self.blobs)
        self.tags = TagStore(ctx, name)
        self.manifests = ManifestStore(ctx, name, self.blobs, blob_store, self.tags, manifest_cache)

    def __repr__(self) -> str:
        return f"Repository({self.name!r})"

    @guarded
    async def exists(self) -> bool:
        """Whether anything was ever pushed here (``_manifests``, ``_layers`` or ``_uploads``)."""
        return await _catalog.repository_exists(self._ctx, paths.repository_path(self.name))

    @guarded
    async def referrers(
        self, subject: Digest, artifact_type: str | None = None
    ) -> list[dict[str, Any]]:
        """OCI descriptors of manifests whose ``subject`` is ``subject``."""
        paths.check_digest(subject)
        return await list_referrers(self._ctx, self.name, subject, artifact_type)
