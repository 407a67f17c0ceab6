"""The ``s3`` driver: registry paths as objects in an S3 (or S3-compatible) bucket.

Semantics follow distribution's s3-aws driver (same options, same keys:
``<rootdirectory>/<path>``), written on boto3 whose blocking calls all run on the
driver's thread pool. Notes on what S3 makes special:

* Directories do not exist: a directory is a key prefix with objects below it.
* Writers are a hidden state object plus, for data past one part, a multipart upload
  (see :mod:`storage_drivers.s3.writer`); their data is invisible until ``commit``,
  which is atomic (CompleteMultipartUpload or PUT).
* ``move`` is a server-side copy (multipart UploadPartCopy above
  ``multipartcopythresholdsize``, in parallel) followed by a delete of the source; the
  HEAD that picks between them is skipped for a small object this driver just wrote.
* Deletes also remove the emptied folders' ``<dir>/`` markers where the server would
  otherwise list them for a long time (directory-backed: SeaweedFS); each driver asks
  its server once whether it does (``folders.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from storage_drivers.base import FileInfo, FileWriter, StorageDriver
from storage_drivers.errors import InvalidOffset, PathNotFound
from storage_drivers.object_walk import valid_relative, walked
from storage_drivers.paths import check_path
from storage_drivers.s3.backend import RangeNotSatisfiable, S3Backend
from storage_drivers.s3.batch import delete_many
from storage_drivers.s3.conditional import ConditionalWrites
from storage_drivers.s3.copy import multipart_copy
from storage_drivers.s3.folders import EmptiedFolders
from storage_drivers.s3.options import MIN_CHUNK_SIZE, parse_options
from storage_drivers.s3.reader import BodyChunks
from storage_drivers.s3.removal import delete_keys, parent_of, prune, remove_tree
from storage_drivers.s3.upload_state import claim_fresh_state, resume_upload, start_upload
from storage_drivers.s3.writer import S3FileWriter

#: How long a redirect URL stays valid (distribution's value).
REDIRECT_EXPIRY_SECONDS = 20 * 60
#: S3's maximum keys per list page and per DeleteObjects request.
LIST_MAX = 1000
#: Keys ``stat`` lists under the path's key: enough to get past a few siblings that
#: share its name as a prefix (``tag`` next to ``tag-rc``).
STAT_KEYS = 16


class S3Driver(StorageDriver):
    """Stores every path as an object under ``rootdirectory`` in ``bucket``."""

    name: ClassVar[str] = "s3"
    #: Smallest non-final multipart part S3 accepts; the API announces it as
    #: OCI-Chunk-Min-Length.
    min_chunk_size: ClassVar[int] = MIN_CHUNK_SIZE

    def __init__(self, **parameters: Any) -> None:
        self.options = parse_options(parameters)
        self._backend = S3Backend(self.options)
        self._conditional = ConditionalWrites(self._backend)
        #: Whether deletes must also remove the folders they empty (see ``folders.py``).
        self.emptied_folders = EmptiedFolders(self._backend)
        #: Page size of list requests and keys per DeleteObjects (tests lower them to
        #: exercise pagination and batching cheaply).
        self._list_max = LIST_MAX
        self._delete_max = LIST_MAX

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> S3Driver:
        return cls(**dict(parameters))

    def _check(self, path: str, allow_root: bool = False) -> str:
        return check_path(path, driver=self.name, allow_root=allow_root)

    # -- whole objects ------------------------------------------------------------------

    async def get_content(self, path: str) -> bytes:
        self._check(path)
        return await self._backend.get_body(path, Key=self._backend.key(path))

    async def put_content(self, path: str, content: bytes) -> None:
        self._check(path)
        await self._backend.call(
            "put_object",
            path,
            Key=self._backend.key(path),
            Body=bytes(content),
            **self.options.object_args(),
        )

    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """One GET (ranged past offset 0): its headers give the size, so no HEAD first.

        Errors still come before the first chunk: the GET is answered before the
        iterator is handed out. A range past the end (416) is told apart from
        ``offset == size`` (an empty read) by a HEAD, only then.
        """
        self._check(path)
        if offset < 0:
            raise InvalidOffset(path, offset, driver=self.name)
        if length is not None and length <= 0:
            size = await self._size(path)
            if offset > size:
                raise InvalidOffset(path, offset, driver=self.name)
            return _empty()
        kwargs: dict[str, Any] = {"Key": self._backend.key(path)}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            kwargs["Range"] = f"bytes={offset}-{end}"
        try:
            response = await self._backend.call("get_object", path, **kwargs)
        except RangeNotSatisfiable:
            if offset > await self._size(path):
                raise InvalidOffset(path, offset, driver=self.name) from None
            return _empty()  # offset == size: nothing to read
        return BodyChunks(self._backend, response["Body"])

    async def _size(self, path: str) -> int:
        head = await self._backend.call("head_object", path, Key=self._backend.key(path))
        return int(head["ContentLength"])

    # -- writers ------------------------------------------------------------------------

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        self._check(path)
        if append:
            state = await resume_upload(self._backend, path)
        else:
            state = await start_upload(self._backend, path)
        return S3FileWriter(self._backend, path, state)

    async def start_writer(self, path: str, beside: Mapping[str, bytes]) -> FileWriter:
        """A new upload session's writer: its state object is created, not first looked
        for, where the server takes conditional writes (a session's path is new)."""
        self._check(path)
        for other, content in beside.items():
            await self.put_content(other, content)
        if await self._conditional.supported():
            state = await claim_fresh_state(self._backend, path)
            if state is not None:
                return S3FileWriter(self._backend, path, state)
        return await self.writer(path)

    # -- conditional writes -------------------------------------------------------------

    async def conditional_writes(self) -> bool:
        return await self._conditional.supported()

    async def get_content_version(self, path: str) -> tuple[bytes, str]:
        self._check(path)
        return await self._conditional.get(path)

    async def put_content_if(self, path: str, content: bytes, version: str | None) -> str:
        self._check(path)
        return await self._conditional.put(path, content, version)

    async def delete_if(self, path: str, version: str) -> None:
        self._check(path)
        await self._conditional.delete(path, version)

    # -- metadata -----------------------------------------------------------------------

    async def stat(self, path: str) -> FileInfo:
        """One listing of the key as a prefix: the object itself, or a real object below
        it (a directory). HEAD + list only when siblings sharing the prefix fill the page.
        """
        self._check(path)
        key = self._backend.key(path)
        page = await self._backend.call("list_objects_v2", path, Prefix=key, MaxKeys=STAT_KEYS)
        below = False
        for obj in page.get("Contents", []):
            name = obj["Key"]
            if name == key:
                modified = obj.get("LastModified") or datetime.now(UTC)
                return FileInfo(path, int(obj.get("Size", 0)), modified, False)
            if name.startswith(key + "/") and valid_relative(name[len(key) + 1 :]):
                below = True
        if below:
            return FileInfo(path, 0, datetime.now(UTC), True)
        if page.get("IsTruncated"):
            return await self._stat_by_head(path)
        raise PathNotFound(path, driver=self.name)

    async def stat_file(self, path: str) -> FileInfo:
        """One HEAD: cheaper than the listing :meth:`stat` makes, for botocore (no XML to
        parse) and on the bill (AWS prices a LIST as twelve GETs)."""
        self._check(path)
        head = await self._backend.call("head_object", path, Key=self._backend.key(path))
        modified = head.get("LastModified") or datetime.now(UTC)
        return FileInfo(path, int(head["ContentLength"]), modified, False)

    async def _stat_by_head(self, path: str) -> FileInfo:
        with contextlib.suppress(PathNotFound):
            return await self.stat_file(path)
        if await self._has_children(path):
            return FileInfo(path, 0, datetime.now(UTC), True)
        raise PathNotFound(path, driver=self.name)

    async def _has_children(self, path: str) -> bool:
        """Whether a real object lives below ``path`` (folder markers do not count)."""
        prefix = self._backend.prefix(path)
        page = await self._backend.call(
            "list_objects_v2", path, Prefix=prefix, Delimiter="/", MaxKeys=10
        )
        names = [obj["Key"][len(prefix) :] for obj in page.get("Contents", [])]
        names += [cp["Prefix"][len(prefix) : -1] for cp in page.get("CommonPrefixes", [])]
        if any(name and valid_relative(name) for name in names):
            return True
        if page.get("IsTruncated"):
            return await self._has_any_key(path)
        return False

    async def _has_any_key(self, path: str) -> bool:
        prefix = self._backend.prefix(path)
        async for key, _size, _time in self._keys(path, prefix):
            if valid_relative(key[len(prefix) :]):
                return True
        return False

    async def list(self, path: str) -> list[str]:
        self._check(path, allow_root=True)
        prefix = self._backend.prefix(path)
        children: set[str] = set()
        kwargs: dict[str, Any] = {"Prefix": prefix, "Delimiter": "/", "MaxKeys": self._list_max}
        while True:
            page = await self._backend.call("list_objects_v2", path, **kwargs)
            names = [obj["Key"][len(prefix) :] for obj in page.get("Contents", [])]
            names += [cp["Prefix"][len(prefix) : -1] for cp in page.get("CommonPrefixes", [])]
            children.update(
                self._backend.to_path(path, name)
                for name in names
                if name and "/" not in name and valid_relative(name)
            )
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        if not children and path != "/":
            raise PathNotFound(path, driver=self.name)
        return sorted(children)

    async def _keys(self, path: str, prefix: str) -> AsyncIterator[tuple[str, int, datetime]]:
        """Every key below ``prefix`` (flat, paginated) with its size and time."""
        kwargs: dict[str, Any] = {"Prefix": prefix, "MaxKeys": self._list_max}
        while True:
            page = await self._backend.call("list_objects_v2", path, **kwargs)
            for obj in page.get("Contents", []):
                yield obj["Key"], int(obj.get("Size", 0)), obj.get("LastModified")
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    async def walk(self, path: str) -> AsyncIterator[FileInfo]:
        self._check(path, allow_root=True)
        prefix = self._backend.prefix(path)
        async for info in walked(path, prefix, self._keys(path, prefix), self.stat):
            yield info

    # -- move and delete ----------------------------------------------------------------

    async def move(self, source: str, dest: str) -> None:
        self._check(source)
        self._check(dest)
        source_key = self._backend.key(source)
        size = self._backend.recall_size(source_key) if source != dest else None
        if size is None or size > self.options.multipartcopythresholdsize:
            # Unknown size (or a big object, where a stale hint would copy wrong ranges).
            head = await self._backend.call("head_object", source, Key=source_key)
            if source == dest:
                return  # S3 refuses a plain self-copy; the file is already in place
            size = int(head["ContentLength"])
        # A remembered small size needs no HEAD: CopyObject copies the whole object,
        # whatever it has become since, and fails with NoSuchKey when it is gone.
        if size <= self.options.multipartcopythresholdsize:
            await self._backend.call(
                "copy_object",
                source,
                Key=self._backend.key(dest),
                CopySource={"Bucket": self.options.bucket, "Key": source_key},
                **self.options.object_args(),
            )
        else:
            await multipart_copy(self._backend, source, dest, size)
        await delete_keys(self, source, [source_key])
        await prune(self, source, parent_of(source))

    async def commit_to(self, writer: FileWriter, path: str, dest: str) -> None:
        if isinstance(writer, S3FileWriter) and await writer.commit_as(self._backend.key(dest)):
            return  # a small upload: its bytes went straight to dest
        await super().commit_to(writer, path, dest)

    async def publish(
        self,
        writer: FileWriter,
        path: str,
        dest: str,
        beside: Mapping[str, bytes],
        remove: str,
    ) -> None:
        """As the base does it, in fewer requests: no look for writers under ``remove``
        (its only one has just been committed), and a small writer's state object
        deleted in the same request as ``remove``."""
        leftover: list[str] = []
        if isinstance(writer, S3FileWriter) and await writer.commit_as(
            self._backend.key(dest), drop_state=False
        ):
            leftover = writer.state_keys
        else:
            await super().commit_to(writer, path, dest)
        for other, content in beside.items():
            await self.put_content(other, content)
        self._check(remove)
        with contextlib.suppress(PathNotFound):
            await remove_tree(self, remove, writers=False, also=leftover)

    async def delete(self, path: str) -> None:
        """Delete the file or tree at ``path``, uncommitted writers below it included
        (see ``removal.py``)."""
        self._check(path)
        await remove_tree(self, path)

    async def delete_many(self, paths: Sequence[str]) -> Sequence[bool]:
        """A listing per shared parent and DeleteObjects batches (see ``batch.py``)."""
        for path in paths:
            self._check(path)
        return await delete_many(self, paths)

    # -- misc ---------------------------------------------------------------------------

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        """A presigned GET (or HEAD) URL valid for 20 minutes."""
        self._check(path)
        operations = {"GET": "get_object", "HEAD": "head_object"}
        operation = operations.get(method.upper())
        if operation is None:
            return None
        return await self._backend.presign(operation, path, REDIRECT_EXPIRY_SECONDS)

    def bucket_key(self, path: str) -> str:
        """The object key ``path`` is stored under (a CDN in front of the bucket serves
        it: :mod:`storage_drivers.redirects.cloudfront`)."""
        self._check(path)
        return self._backend.key(path)

    async def close(self) -> None:
        self._backend.close()


async def _empty() -> AsyncIterator[bytes]:
    """An iterator with nothing in it (a read at the very end of a file)."""
    return
    yield  # pragma: no cover - makes this an async generator
