"""The driver interface: bytes at paths, nothing more.

Modelled on distribution's StorageDriver. Drivers know nothing of blobs, manifests or
repositories; ``pyregistry.storage`` builds registry semantics on top of this interface.

Contract every driver honours (checked by :mod:`storage_drivers.testsuite`, the suite):

* Paths match ``^(/[A-Za-z0-9._-]+)+$`` (see :mod:`storage_drivers.paths`); ``/`` is
  accepted by ``list`` and ``walk`` only. Anything else raises ``InvalidPath`` before
  the backend is touched.
* ``put_content`` and a writer's ``commit`` are atomic: readers see the old content or
  the new content, never a part of it. Content written through a writer is **not**
  visible at its path (``stat``, ``get_content``, ``reader``, ``list``) before ``commit``.
* ``writer(path, append=True)`` resumes the uncommitted writer for ``path`` – also one
  started by another process sharing the same storage – and raises ``PathNotFound``
  when there is none. ``writer(path)`` without append starts afresh, discarding any
  uncommitted data for that path.
* ``reader(path, offset, length)`` validates eagerly (``PathNotFound``,
  ``InvalidOffset`` for ``offset < 0`` or ``offset > size``) and then yields chunks;
  ``offset == size`` yields nothing. Memory use is bounded by the chunk size.
* ``list`` returns the full paths of the direct children, sorted; a missing directory
  raises ``PathNotFound``. ``walk`` yields ``FileInfo`` for every descendant (directories
  included), depth-first in lexical order.
* ``move`` replaces an existing file at the destination (what moving onto a directory
  does is up to the driver: the registry never does it); ``delete`` is recursive and
  raises ``PathNotFound`` when nothing is there.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from storage_drivers.errors import PathNotFound, Unsupported

DEFAULT_CHUNK_SIZE = 1 << 20
#: A chunk read from a driver: bytes, or where the caller sends it on untouched
#: (:meth:`StorageDriver.send_reader`) also a view of memory the driver did not copy.
Chunk = TypeVar("Chunk", bytes, bytes | memoryview)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What ``stat`` knows about a path."""

    path: str
    size: int
    mod_time: datetime
    is_dir: bool


class FileWriter(abc.ABC):
    """An append-only writer for one path; its data becomes visible only on commit."""

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """Bytes written so far, including those of earlier sessions when resumed."""

    @abc.abstractmethod
    async def write(self, data: bytes) -> int:
        """Append ``data``; return the number of bytes written."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and release; the data stays uncommitted and resumable with append=True."""

    @abc.abstractmethod
    async def cancel(self) -> None:
        """Discard everything written; the path is left as it was before the writer."""

    @abc.abstractmethod
    async def commit(self) -> None:
        """Make the written data the content of the path, atomically. Closes the writer."""

    def observe(self, tap: Callable[[bytes], None]) -> bool:
        """Ask the writer to call ``tap`` with every piece later given to ``write``, in
        order, on whatever thread writes it out (an upload's running hash); True if it
        will. A piece hashed just before it is written is still in the CPU's cache, and
        the hashing costs no thread hop of its own. The default declines: the caller then
        hashes the pieces itself. :meth:`observed` says when ``tap`` has seen them all.
        """
        return False

    async def observed(self) -> None:  # noqa: B027 - optional hook
        """Return once ``tap`` (see :meth:`observe`) has seen every piece written so far."""

    async def __aenter__(self) -> FileWriter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class StorageDriver(abc.ABC):
    """Bytes at paths. Every method is async and never blocks the event loop."""

    #: The name used in the config's ``storage:`` section.
    name: ClassVar[str] = ""

    #: The smallest chunk (all but the last) an upload should be sent in, such as S3's
    #: 5 MiB multipart minimum; 0 when any size will do. The API advertises it to clients
    #: as ``OCI-Chunk-Min-Length``.
    min_chunk_size: ClassVar[int] = 0
    #: Whether a removal (and a listing) mostly waits: on a network, or on a device that
    #: discards freed blocks. Work beside such calls then overlaps them; beside quick
    #: system calls it only contends for the GIL (a garbage collection plans by this).
    removals_wait: bool = True

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> StorageDriver:
        """Build the driver from its ``storage.<name>`` config mapping."""
        return cls(**dict(parameters))

    @abc.abstractmethod
    async def get_content(self, path: str) -> bytes:
        """Return the whole content of a (small) file."""

    @abc.abstractmethod
    async def put_content(self, path: str, content: bytes) -> None:
        """Atomically set the content of a (small) file."""

    @abc.abstractmethod
    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """Open ``path`` for streaming from ``offset``, at most ``length`` bytes.

        Errors are raised by this call, before the first chunk, so HTTP handlers can
        answer 404/416 before sending headers.
        """

    async def send_reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes | memoryview]:
        """:meth:`reader`, for chunks that are sent on untouched (a blob to a client): a
        driver may hand out views of memory it did not copy (the filesystem driver maps
        the file). The default is :meth:`reader`."""
        return await self.reader(path, offset, length)

    @abc.abstractmethod
    async def writer(self, path: str, append: bool = False) -> FileWriter:
        """Return a writer for ``path``; see the module docstring for append."""

    async def get_contents(self, paths: Sequence[str]) -> list[bytes | None]:
        """``get_content`` of each path, None where nothing is there. One call, so a
        driver whose every call costs something fixed (a thread hop) may read them all at
        once: a collection's mark reads every revision link and manifest. The default
        reads them concurrently.
        """

        async def read(path: str) -> bytes | None:
            try:
                return await self.get_content(path)
            except PathNotFound:
                return None

        return list(await asyncio.gather(*(read(path) for path in paths)))

    async def put_contents(self, contents: Mapping[str, bytes]) -> None:
        """``put_content`` each of ``contents``, in order (a later file is never there
        before an earlier one). One call, so a driver whose every call costs something
        fixed (a thread hop) may do them all at once: a manifest pushed by tag writes its
        data and three links. The default makes the calls in order.
        """
        for path, content in contents.items():
            await self.put_content(path, content)

    async def start_writer(self, path: str, beside: Mapping[str, bytes]) -> FileWriter:
        """``put_content`` each of ``beside``, then return ``writer(path)``: a fresh writer
        announced by small files (an upload session's marker). One call, so a driver
        whose every call costs something fixed (a thread hop, a round trip) may do both
        at once; the default simply makes the calls in order. The markers are written
        atomically (whole or not at all) but need not survive a crash of the machine:
        they announce a writer that holds nothing yet, so a driver may skip its syncs.
        """
        for other, content in beside.items():
            await self.put_content(other, content)
        return await self.writer(path)

    async def publish(
        self,
        writer: FileWriter,
        path: str,
        dest: str,
        beside: Mapping[str, bytes],
        remove: str,
    ) -> None:
        """How a verified upload ends: commit ``writer`` (the one for ``path``), move its
        data to ``dest``, ``put_content`` each of ``beside``, then delete ``remove`` (if
        there). In that order, so a crash at any point leaves nothing naming data that is
        not there. One call, so a driver whose every call costs something fixed (a thread
        hop) may do it all at once; the default makes the calls in order. ``remove`` (an
        upload session's directory) holds no uncommitted writer but ``writer``: a driver
        need not look for others there.
        """
        await self.commit_to(writer, path, dest)
        for other, content in beside.items():
            await self.put_content(other, content)
        with contextlib.suppress(PathNotFound):
            await self.delete(remove)

    async def commit_to(self, writer: FileWriter, path: str, dest: str) -> None:
        """Commit ``writer`` (the one for ``path``) and move its data to ``dest``: the
        first step of :meth:`publish`, for a driver that can write ``dest`` at once."""
        await writer.commit()
        await self.move(path, dest)

    @abc.abstractmethod
    async def stat(self, path: str) -> FileInfo:
        """Return size, modification time and whether ``path`` is a directory."""

    async def stat_file(self, path: str) -> FileInfo:
        """:meth:`stat` of a path wanted only as a file: a directory is PathNotFound too.
        Object stores answer it with one HEAD, where telling a directory from nothing
        costs them a listing (a blob's HEAD or GET asks this of its data)."""
        info = await self.stat(path)
        if info.is_dir:
            raise PathNotFound(path, driver=self.name)
        return info

    @abc.abstractmethod
    async def list(self, path: str) -> list[str]:
        """Return the full paths of the direct children of ``path``, sorted."""

    @abc.abstractmethod
    async def move(self, source: str, dest: str) -> None:
        """Move a file, replacing ``dest`` if it exists."""

    @abc.abstractmethod
    async def delete(self, path: str) -> None:
        """Delete a file or a whole directory tree."""

    async def delete_many(self, paths: Sequence[str]) -> Sequence[bool]:
        """:meth:`delete` each of ``paths``; per path, whether it was there (PathNotFound
        is False, any other error propagates). A driver that can delete many in one call
        (one thread hop, one batch request) overrides this; a garbage collection deletes
        tens of thousands of small directories."""
        found = []
        for path in paths:
            try:
                await self.delete(path)
            except PathNotFound:
                found.append(False)
            else:
                found.append(True)
        return found

    async def walk_files(self, path: str) -> AsyncIterator[FileInfo]:
        """:meth:`walk` without the directories: every file below ``path``, in walk order.

        Whole-store tools (garbage collection, storage usage) want only the files; a
        driver that learns what is a directory without asking for it (the filesystem's
        listing types, an object store's flat listing) overrides this to save a stat or
        a synthesised entry per directory. A file walks as nothing; a missing ``path``
        raises ``PathNotFound``, as in ``walk``.
        """
        async for info in self.walk(path):
            if not info.is_dir:
                yield info

    async def find_files(
        self, path: str, name: str, depth: int, skip: Callable[[str], bool] | None = None
    ) -> AsyncIterator[FileInfo]:
        """The files called ``name`` exactly ``depth`` directories below ``path`` (0:
        ``path/name`` itself), in walk order: :meth:`walk_files` with only those kept,
        less those whose directory's name ``skip`` accepts (depth 1 and more).

        A store laid out as directories of one known file each (a blob store holds a
        directory per blob with its ``data``) is read with a listing per directory above
        the last level and a single ``stat`` per directory of it, where a walk lists
        every directory; a driver with a cheaper way (the filesystem's) overrides this.
        ``skip`` spares such a driver the ``stat`` of directories the caller knows it
        does not want (a collection: the blobs it keeps). A missing ``path`` raises
        ``PathNotFound``, as in ``walk_files``.
        """
        prefix = "" if path == "/" else path.rstrip("/")
        async for info in self.walk_files(path):
            parts = info.path[len(prefix) + 1 :].split("/")
            if len(parts) != depth + 1 or parts[-1] != name:
                continue
            if skip is None or depth == 0 or not skip(parts[-2]):
                yield info

    # -- conditional writes (optional: object stores that honour If-None-Match/If-Match) --

    async def conditional_writes(self) -> bool:
        """Whether :meth:`put_content_if` and :meth:`delete_if` work here. A lease object
        then takes one round trip, where plain writes need a write, a wait and a read."""
        return False

    async def get_content_version(self, path: str) -> tuple[bytes, str]:
        """:meth:`get_content` and the version read (what :meth:`put_content_if` compares)."""
        raise Unsupported("no conditional writes", driver=self.name, path=path)

    async def put_content_if(self, path: str, content: bytes, version: str | None) -> str:
        """Write ``content`` only if ``path`` is absent (``version`` None) or still at
        ``version``; the new version. ConditionFailed when it is not."""
        raise Unsupported("no conditional writes", driver=self.name, path=path)

    async def delete_if(self, path: str, version: str) -> None:
        """Delete the file ``path`` only if it is still at ``version`` (ConditionFailed
        when it is not; nothing when it is gone)."""
        raise Unsupported("no conditional writes", driver=self.name, path=path)

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        """A URL the client may fetch ``path`` from directly, or None if unsupported."""
        return None

    @abc.abstractmethod
    def walk(self, path: str) -> AsyncIterator[FileInfo]:
        """Yield every descendant of ``path``, depth-first, in lexical order."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and thread pools."""
