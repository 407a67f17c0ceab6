"""State shared by one Registry and every store it hands out (driver, switches, caches)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from pyregistry.storage.cache import BlobDescriptorCache
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import READONLY_MESSAGE, DigestInvalid, Unsupported
from pyregistry.storage.metadata import NO_CHANGE, IndexChange, MetadataIndex
from pyregistry.storage.policy import ManifestPolicy
from pyregistry.storage.resumable_hash import RunningHash
from pyregistry.storage.session_lock import LocalUploadLocks, UploadLocks
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound
from storage_drivers.redirects import RedirectMiddleware

#: Upload sessions whose running hash this process remembers (older ones get re-read).
#: Only a hash is forgotten past this, never a lock: writers are kept apart by
#: ``upload_locks`` (see ``session_lock.py``).
MAX_TRACKED_UPLOADS = 10000


def max_tracked_uploads() -> int:
    """Read at each use, so a test can lower the bound."""
    return MAX_TRACKED_UPLOADS


class UploadProgress:
    """The running hash of an upload session as seen by this process.

    ``offset`` is how many bytes the hash has consumed; if the session's size differs, some
    bytes were written elsewhere (another process, a restart) and commit re-reads the data.
    ``hasher`` is None until this process sees the session from its first byte (or takes
    up a state saved elsewhere, ``hash_states.py``); ``saved`` is the offset of the last
    state this process saved or took up.
    """

    __slots__ = ("hasher", "offset", "saved")

    def __init__(self) -> None:
        self.hasher: RunningHash | None = None
        self.offset = 0
        self.saved = 0


def link_content(digest: Digest) -> bytes:
    """A link file holds ``alg:hex`` and nothing else, as distribution writes it."""
    return str(digest).encode()


@dataclass
class StorageContext:
    """What every store of one Registry shares, so a switch or cache is set in one place."""

    driver: StorageDriver
    delete_enabled: bool = True
    redirect: bool = True
    #: ``middleware.storage``: what a blob's redirect URL becomes, in order.
    redirects: tuple[RedirectMiddleware, ...] = ()
    readonly: bool = False
    cache: BlobDescriptorCache | None = None
    policy: ManifestPolicy = field(default_factory=ManifestPolicy)
    index: MetadataIndex | None = None
    uploads: OrderedDict[tuple[str, str], UploadProgress] = field(default_factory=OrderedDict)
    upload_locks: UploadLocks = field(default_factory=LocalUploadLocks)

    def check_writable(self) -> None:
        """Refuse every write in read-only mode, as distribution does (405 UNSUPPORTED)."""
        if self.readonly:
            raise Unsupported(READONLY_MESSAGE)

    def check_delete(self) -> None:
        self.check_writable()
        if not self.delete_enabled:
            raise Unsupported("deletes are disabled on this registry")

    def change(
        self, repository: str, *, contents: bool = True
    ) -> AbstractAsyncContextManager[IndexChange]:
        """Wrap a write that can change a listing (see :mod:`pyregistry.storage.metadata`)."""
        if self.index is None:
            return NO_CHANGE
        return self.index.change(repository, contents=contents)

    def progress(self, repo: str, upload_id: str) -> UploadProgress:
        """This process's progress record for an upload session, created on first use."""
        key = (repo, upload_id)
        record = self.uploads.get(key)
        if record is None:
            record = UploadProgress()
            self.uploads[key] = record
            while len(self.uploads) > max_tracked_uploads():
                self.uploads.popitem(last=False)
        else:
            self.uploads.move_to_end(key)
        return record

    def forget_upload(self, repo: str, upload_id: str) -> None:
        self.uploads.pop((repo, upload_id), None)

    async def read_link(self, path: str) -> Digest | None:
        """The digest a link file names, or None when the link (or its content) is bad."""
        try:
            content = await self.driver.get_content(path)
        except PathNotFound:
            return None
        return _link_target(content)

    async def read_links(self, paths: Sequence[str]) -> list[Digest | None]:
        """:meth:`read_link` of each path, in one driver call."""
        return [_link_target(content) for content in await self.driver.get_contents(paths)]

    async def write_link(self, path: str, digest: Digest) -> None:
        await self.driver.put_content(path, link_content(digest))

    async def exists(self, path: str) -> bool:
        try:
            await self.driver.stat(path)
        except PathNotFound:
            return False
        return True

    async def file_exists(self, path: str) -> bool:
        """Whether the file ``path`` is there (one HEAD on object stores, where
        :meth:`exists` also looks for a directory with a listing)."""
        try:
            await self.driver.stat_file(path)
        except PathNotFound:
            return False
        return True


def _link_target(content: bytes | None) -> Digest | None:
    if content is None:
        return None
    try:
        return Digest.parse(content.decode("utf-8", "replace").strip())
    except DigestInvalid:
        return None
