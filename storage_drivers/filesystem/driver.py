"""The ``filesystem`` driver: distribution's on-disk layout under a root directory.

Driver path ``/a/b`` is the file ``<rootdirectory>/a/b``, exactly as distribution stores
it, so an existing ``/var/lib/registry`` is served as is. Blocking calls run on a thread
pool of at most ``maxthreads`` threads (distribution's option and bounds), except small
reads (``get_content`` of a small file, ``stat``, opening a file to stream it, reads of
up to 64 KiB from it and the ``stat`` that resumes a writer) and the start of a writer
(``start_writer``: an upload session's few small files), which run on the event loop while they
stay fast (:mod:`storage_drivers.filesystem.inline`; ``inlinereads: false`` stops it). Every
operation first checks the path grammar, then verifies that the OS path, symlinks
resolved, stays inside the root (:mod:`storage_drivers.filesystem.root`). Directories
left empty by a delete or move are kept, as distribution keeps them.

Durability: every write is a temporary file (or the writer's sidecar) renamed into
place, so a crash of the process never leaves torn content at a path. Against a power
loss, file *data* is fsynced before the rename that publishes it (``put_content`` and a
writer's ``commit``), so a name never comes back empty or torn (the markers
``start_writer`` puts beside a fresh writer excepted: they announce a session that has
received nothing, and the contract lets a crash lose them); directories are not
fsynced, so the last renames before the loss may be undone (the file reappears absent or
with its old content: an unacknowledged-looking push the client simply repeats).
Dropping the directory fsyncs and the fsync of uncommitted sidecars on ``close`` took
the syncs of a small blob push from nine to three, and the unsynced session marker to two
(the data, its link); distribution never fsyncs, which
leaves it open to empty link files and empty manifest blobs after a power loss (an
empty blob under a digest would then be served as that digest until collected).
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, ClassVar

from storage_drivers.base import FileInfo, FileWriter, StorageDriver
from storage_drivers.errors import InvalidOffset, PathNotFound
from storage_drivers.filesystem.batch import delete_batch
from storage_drivers.filesystem.files import find_files_tree, walk_files_tree
from storage_drivers.filesystem.inline import InlineGate, read_small
from storage_drivers.filesystem.listing import folder_missing, list_dir, next_batch, walk_tree
from storage_drivers.filesystem.mounts import delete_batches, maps_safely
from storage_drivers.filesystem.ops import (
    delete_path,
    move_file,
    open_regular,
    os_errors,
    put_all,
    put_atomic,
    read_many,
    read_whole,
    stat_path,
)
from storage_drivers.filesystem.reader import FileChunks
from storage_drivers.filesystem.root import DRIVER, Root
from storage_drivers.filesystem.sending import MappedWindows, WindowedChunks
from storage_drivers.filesystem.writer import (
    LAZY,
    FilesystemWriter,
    find_sidecar,
    open_sidecar,
    publish_sidecar,
    start_sidecar,
)
from storage_drivers.paths import check_path
from storage_drivers.threads import ThreadRunner

DEFAULT_ROOT_DIRECTORY = "/var/lib/registry"
DEFAULT_MAX_THREADS = 100
MIN_THREADS = 25
PARAMETERS = frozenset({"rootdirectory", "maxthreads", "inlinereads"})
#: Entries of a walk fetched per thread hop.
WALK_BATCH = 512


def parse_max_threads(value: object) -> int:
    """distribution's rules: an integer or an integer string; below 25 means 25."""
    if value is None:
        return DEFAULT_MAX_THREADS
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"filesystem: maxthreads must be an integer, not {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip(), 0)
        except ValueError:
            msg = f"filesystem: maxthreads must be an integer, {value!r} invalid"
            raise ValueError(msg) from None
    return max(value, MIN_THREADS)


def parse_inline_reads(value: object) -> bool:
    """``inlinereads`` (a pyregistry addition): true (the default) or false."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"filesystem: inlinereads must be true or false, {value!r} invalid")


class FilesystemDriver(StorageDriver):
    """Files under ``rootdirectory``, created on first write if missing."""

    name: ClassVar[str] = DRIVER

    def __init__(
        self,
        rootdirectory: str | os.PathLike[str] = DEFAULT_ROOT_DIRECTORY,
        maxthreads: int | str | None = DEFAULT_MAX_THREADS,
        inlinereads: bool | str | None = True,
    ) -> None:
        directory = os.fspath(rootdirectory) if rootdirectory is not None else ""
        if not isinstance(directory, str) or not directory:
            raise ValueError("filesystem: rootdirectory must be a non-empty path")
        self.max_threads = parse_max_threads(maxthreads)
        self._root = Root(directory)
        self._runner = ThreadRunner(self.max_threads, "pyregistry-fs")
        #: small reads on the event loop while they are fast (see ``inline.py``)
        self.inline = InlineGate(parse_inline_reads(inlinereads))
        #: ``delete_many`` batches running at once (see ``mounts.py``)
        self.delete_batches = delete_batches(directory)
        self._batch_slots = threading.BoundedSemaphore(self.delete_batches)
        self.removals_wait = self.delete_batches > 1  # the mount's answer again
        #: blobs sent from mappings of their files (``mapping.py``): a local mount
        self.maps = maps_safely(directory)
        self._windows = MappedWindows()

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> FilesystemDriver:
        unknown = sorted(str(k) for k in parameters if k not in PARAMETERS)
        if unknown:
            raise TypeError(
                f"filesystem: unknown parameter(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(PARAMETERS))}"
            )
        root = parameters.get("rootdirectory", DEFAULT_ROOT_DIRECTORY)
        return cls(
            rootdirectory=root if isinstance(root, os.PathLike) else str(root),
            maxthreads=parameters.get("maxthreads", DEFAULT_MAX_THREADS),
            inlinereads=parameters.get("inlinereads", True),
        )

    @property
    def root_directory(self) -> str:
        """The root, with symlinks resolved: what containment is checked against."""
        return self._root.directory

    def _check(self, path: str, allow_root: bool = False) -> str:
        return check_path(path, driver=DRIVER, allow_root=allow_root)

    async def get_content(self, path: str) -> bytes:
        self._check(path)
        gate = self.inline
        if gate.open():
            mark = gate.start()
            try:
                content = read_small(self._root, path)
            finally:
                gate.took(mark)
            if content is not None:
                return content
        return await self._runner.run(read_whole, self._root, path)

    async def get_contents(self, paths: Sequence[str]) -> list[bytes | None]:
        """All of them in one thread hop (a collection's mark reads a few per manifest)."""
        for path in paths:
            self._check(path)
        return await self._runner.run(read_many, self._root, list(paths))

    async def put_content(self, path: str, content: bytes) -> None:
        self._check(path)
        await self._runner.run(put_atomic, self._root, path, content)

    async def put_contents(self, contents: Mapping[str, bytes]) -> None:
        """All of them in one thread hop, each synced and renamed in turn."""
        for path in contents:
            self._check(path)
        await self._runner.run(put_all, self._root, dict(contents))

    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        fd, remaining = await self._open_window(path, offset, length)
        return FileChunks(self._runner, path, fd, offset, remaining, self.inline)

    async def send_reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes | memoryview]:
        """:meth:`reader` with its chunks mapped, not copied, where the mount allows
        (``mapping.py``)."""
        fd, remaining = await self._open_window(path, offset, length)
        if self.maps:
            return WindowedChunks(
                self._windows, self._runner, path, fd, offset, remaining, self.inline
            )
        return FileChunks[bytes | memoryview](
            self._runner, path, fd, offset, remaining, self.inline
        )

    async def _open_window(self, path: str, offset: int, length: int | None) -> tuple[int, int]:
        """The file opened for reading, and how much of it from ``offset`` is wanted."""
        self._check(path)
        if offset < 0:
            raise InvalidOffset(path, offset, driver=DRIVER)
        gate = self.inline
        if gate.open():
            mark = gate.start()
            try:
                fd, size = self._open_for_read(path)
            finally:
                gate.took(mark)
        else:
            fd, size = await self._runner.run(self._open_for_read, path)
        if offset > size:
            os.close(fd)
            raise InvalidOffset(path, offset, driver=DRIVER)
        remaining = size - offset if length is None else min(size - offset, max(length, 0))
        return fd, remaining

    def _open_for_read(self, path: str) -> tuple[int, int]:
        with os_errors(path):
            return open_regular(path, self._root.resolve(path))

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        self._check(path)
        gate = self.inline
        if append and gate.open():
            # Resuming needs only the sidecar's size now; it is opened by the first write.
            mark = gate.start()
            try:
                os_path, partial, size = find_sidecar(self._root, path)
            finally:
                gate.took(mark)
            return FilesystemWriter(self._runner, path, os_path, partial, LAZY, size)
        os_path, partial, fd, size = await self._runner.run(open_sidecar, self._root, path, append)
        return FilesystemWriter(self._runner, path, os_path, partial, fd, size)

    async def start_writer(self, path: str, beside: Mapping[str, bytes]) -> FileWriter:
        """On the event loop while the gate is open: an upload session's start (a
        directory, its marker, an empty sidecar; a few system calls, no fsync) cost less
        than the thread hop that carried it, one per blob of a push."""
        self._check(path)
        for other in beside:
            self._check(other)
        gate = self.inline
        if gate.open():
            mark = gate.start()
            try:
                os_path, partial = start_sidecar(self._root, path, dict(beside))
            finally:
                gate.took(mark)
        else:
            os_path, partial = await self._runner.run(start_sidecar, self._root, path, dict(beside))
        return FilesystemWriter(self._runner, path, os_path, partial, LAZY, 0)

    async def publish(
        self,
        writer: FileWriter,
        path: str,
        dest: str,
        beside: Mapping[str, bytes],
        remove: str,
    ) -> None:
        """All of it in one thread hop, the data renamed from the sidecar straight to
        ``dest`` (a small push's blob otherwise took four hops and an extra rename)."""
        if not isinstance(writer, FilesystemWriter):
            await super().publish(writer, path, dest, beside, remove)
            return
        for checked in (path, dest, remove, *beside):
            self._check(checked)
        parts = await writer.detach()
        await self._runner.run(publish_sidecar, self._root, path, parts, dest, dict(beside), remove)

    async def stat(self, path: str) -> FileInfo:
        self._check(path)
        gate = self.inline
        if gate.open():
            mark = gate.start()
            try:
                return stat_path(self._root, path)
            finally:
                gate.took(mark)
        return await self._runner.run(stat_path, self._root, path)

    async def list(self, path: str) -> list[str]:
        self._check(path, allow_root=True)
        gate = self.inline
        if path != "/" and gate.open():
            # A folder that is not there (the tags of a repository nobody pushed, asked by
            # a client probing names) is answered on the loop: a stat, not a thread hop.
            mark = gate.start()
            try:
                missing = folder_missing(self._root, path)
            finally:
                gate.took(mark)
            if missing:
                raise PathNotFound(path, driver=DRIVER)
        return await self._runner.run(list_dir, self._root, path)

    async def move(self, source: str, dest: str) -> None:
        self._check(source)
        self._check(dest)
        await self._runner.run(move_file, self._root, source, dest)

    async def delete(self, path: str) -> None:
        self._check(path)
        await self._runner.run(delete_path, self._root, path)

    async def delete_many(self, paths: Sequence[str]) -> Sequence[bool]:
        """Every delete of the batch in one thread hop (``batch.py``: a listing per parent,
        a few system calls per directory); as many batches at once as the disk overlaps
        (``mounts.py``)."""
        for path in paths:
            self._check(path)
        return await self._runner.run(self._delete_batch, list(paths))

    def _delete_batch(self, paths: Sequence[str]) -> Sequence[bool]:
        with self._batch_slots:
            return delete_batch(self._root, [*paths])

    async def walk(self, path: str) -> AsyncIterator[FileInfo]:
        self._check(path, allow_root=True)
        async for info in self._walk(path):
            yield info

    async def _walk(self, path: str) -> AsyncIterator[FileInfo]:
        """Up to :data:`WALK_BATCH` entries per thread hop (a hop per directory cost more
        than listing it: a third of a garbage collection's CPU went to blob-store hops);
        subtrees removed mid-walk are skipped."""
        entries = walk_tree(self._root, path)
        while batch := await self._runner.run(next_batch, entries, WALK_BATCH):
            for info in batch:
                yield info

    async def walk_files(self, path: str) -> AsyncIterator[FileInfo]:
        """Files only, no stat per directory (see ``files.py``), a batch per hop."""
        self._check(path, allow_root=True)
        entries = walk_files_tree(self._root, path)
        while batch := await self._runner.run(next_batch, entries, WALK_BATCH):
            for info in batch:
                yield info

    async def find_files(
        self, path: str, name: str, depth: int, skip: Callable[[str], bool] | None = None
    ) -> AsyncIterator[FileInfo]:
        """The last level looked up, not listed (see ``files.py``), a batch per hop."""
        self._check(path, allow_root=True)
        entries = find_files_tree(self._root, path, name, depth, skip)
        while batch := await self._runner.run(next_batch, entries, WALK_BATCH):
            for info in batch:
                yield info

    async def close(self) -> None:
        self._runner.close()
