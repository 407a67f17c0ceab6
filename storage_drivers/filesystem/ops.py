"""Blocking filesystem operations behind :class:`storage_drivers.filesystem.FilesystemDriver`.

Everything here is synchronous and runs on the driver's thread pool, never on the event
loop. Functions take an already checked driver path and a :class:`Root` that maps it to
an OS path only after verifying (symlinks resolved) that it stays inside the root.

Hidden helper files live next to their target: a writer's uncommitted data in
``.<name>~partial`` and ``put_content``'s temporary files in ``.<name>~tmp.<hex>``.
``~`` is outside the driver path grammar, so no driver path can ever name them, and
listings skip every entry whose name is not a valid path component.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat as stat_mod
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from storage_drivers.base import FileInfo
from storage_drivers.errors import PathNotFound, StorageDriverError, StorageFull
from storage_drivers.filesystem.root import DRIVER, Root

_COMPONENT = re.compile(r"[A-Za-z0-9._-]+")
TMP_MARK = "~tmp."
#: errno values meaning "no room left": a full file system, an exhausted quota.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def visible_name(name: str) -> bool:
    """Whether a directory entry can be named by a driver path (helper files cannot)."""
    return name not in (".", "..") and _COMPONENT.fullmatch(name) is not None


def temp_name(os_path: str) -> str:
    """A unique temporary file next to ``os_path`` for an atomic replace."""
    head, tail = os.path.split(os_path)
    return os.path.join(head, f".{tail}{TMP_MARK}{uuid.uuid4().hex}")


def child_path(parent: str, name: str) -> str:
    """The driver path of ``name`` inside the driver directory ``parent``."""
    return ("" if parent == "/" else parent) + "/" + name


@contextmanager
def os_errors(path: str) -> Iterator[None]:
    """Turn OS errors into driver errors so callers never see a bare OSError."""
    try:
        yield
    except StorageDriverError:
        raise
    except OSError as exc:
        raise driver_error(path, exc) from exc


def driver_error(path: str, exc: OSError) -> StorageDriverError:
    """The driver error an OS error on ``path`` is (what :func:`os_errors` raises)."""
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        # ENOTDIR: a component of the path is a file, so the path cannot exist.
        return PathNotFound(path, driver=DRIVER)
    reason = exc.strerror or exc.__class__.__name__
    kind = StorageFull if exc.errno in _NO_SPACE else StorageDriverError
    return kind(f"{path}: {reason}", driver=DRIVER, path=path)


def make_parents(path: str, os_path: str) -> None:
    """Create the parent directories of a file about to be written."""
    try:
        os.makedirs(os.path.dirname(os_path), exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        msg = f"{path}: a parent of the path is a file"
        raise StorageDriverError(msg, driver=DRIVER, path=path) from exc


def create_file(path: str, os_path: str, flags: int) -> int:
    """``os.open(os_path, flags | O_CREAT)``, creating the parents only when missing.

    Trying the open first saves the ``makedirs`` system calls on the common path, where
    the directory is already there.
    """
    try:
        return os.open(os_path, flags | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except (FileNotFoundError, NotADirectoryError):
        make_parents(path, os_path)
        return os.open(os_path, flags | os.O_CREAT | os.O_CLOEXEC, 0o644)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """``os.write`` until every byte is written (it may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


#: The most buffers one ``writev`` takes (Linux's IOV_MAX).
IOV_MAX = 1024


def write_parts(fd: int, parts: list[bytes]) -> None:
    """Write ``parts`` in order with ``writev``: the pieces a request body arrived in go to
    the file without first being copied into one buffer (that copy, and the fresh pages
    a new megabyte buffer faults in, cost more than the write itself)."""
    views = [memoryview(part) for part in parts if part]
    while views:
        batch = views[:IOV_MAX]
        written = os.writev(fd, batch)
        done = 0
        while done < len(batch) and written >= len(batch[done]):
            written -= len(batch[done])
            done += 1
        del views[:done]
        if written:
            views[0] = views[0][written:]


def open_regular(path: str, os_path: str) -> tuple[int, int]:
    """Open a regular file for reading: (fd, size); a directory counts as missing."""
    fd = os.open(os_path, os.O_RDONLY | os.O_CLOEXEC)
    st = os.fstat(fd)
    if not stat_mod.S_ISREG(st.st_mode):
        os.close(fd)
        raise PathNotFound(path, driver=DRIVER)
    return fd, st.st_size


def read_whole(root: Root, path: str) -> bytes:
    with os_errors(path):
        fd, size = open_regular(path, root.resolve(path))
        try:
            parts: list[bytes] = []
            while True:
                chunk = os.read(fd, max(size, 1 << 16))
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        finally:
            os.close(fd)


def read_many(root: Root, paths: Sequence[str]) -> list[bytes | None]:
    """:func:`read_whole` of each path, None where nothing is there."""
    contents: list[bytes | None] = []
    for path in paths:
        try:
            contents.append(read_whole(root, path))
        except PathNotFound:
            contents.append(None)
    return contents


#: The largest content :func:`put_atomic` compares with what the file holds already.
SAME_CONTENT_LIMIT = 64 * 1024


def put_atomic(root: Root, path: str, content: bytes, sync: bool = True) -> None:
    """Temp file in the same directory, fsync (data only), rename over the target.

    The fsync makes sure the name never shows torn or empty content after a power
    loss; the directory is not synced (see the driver's docstring). ``sync=False`` skips
    it for a file nothing durable depends on (an upload session's marker): the rename
    still keeps readers from ever seeing it half-written while the system runs.

    A file that already holds ``content`` is only touched (see :func:`_renew_same`).
    """
    with os_errors(path):
        os_path = root.resolve(path)
        if len(content) <= SAME_CONTENT_LIMIT and _renew_same(os_path, content, sync):
            return
        tmp = temp_name(os_path)
        fd = create_file(path, tmp, os.O_WRONLY | os.O_EXCL)
        try:
            try:
                write_all(fd, content)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, os_path)
        except BaseException:
            unlink_quietly(tmp)
            raise


def _renew_same(os_path: str, content: bytes, sync: bool) -> bool:
    """Whether the file already holds exactly ``content``; if so its modification time is
    set to now (and synced), which is all a rewrite would change.

    A manifest pushed again, a tag pushed again at the same manifest, a blob mounted again
    write link files whose content is already there: a new file, its fsync and a rename
    cost six times this. The time still moves, since collection and retention read it as
    "pushed at". The fsync covers content another program wrote without one.
    """
    try:
        # O_NONBLOCK: a FIFO put at the path must not hang the thread (no effect on files)
        fd = os.open(os_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode) or st.st_size != len(content):
            return False
        if os.read(fd, len(content) + 1) != content:
            return False
        os.utime(fd)
        if sync:
            os.fsync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def put_all(root: Root, contents: dict[str, bytes]) -> None:
    """:func:`put_atomic` each of ``contents``, in order (the driver's ``put_contents``)."""
    for path, content in contents.items():
        put_atomic(root, path, content)


def file_info(path: str, st: os.stat_result) -> FileInfo:
    is_dir = stat_mod.S_ISDIR(st.st_mode)
    return FileInfo(
        path=path,
        size=0 if is_dir else st.st_size,
        mod_time=datetime.fromtimestamp(st.st_mtime, UTC),
        is_dir=is_dir,
    )


def stat_path(root: Root, path: str) -> FileInfo:
    with os_errors(path):
        return file_info(path, os.stat(root.resolve(path)))


def move_file(root: Root, source: str, dest: str) -> None:
    """Rename a file onto ``dest``, replacing a file or a whole tree already there."""
    with os_errors(source):
        src = root.resolve(source)
        dst = root.resolve(dest)
        try:
            if not stat_mod.S_ISREG(os.stat(src).st_mode):
                raise PathNotFound(source, driver=DRIVER)
        except FileNotFoundError as exc:
            raise PathNotFound(source, driver=DRIVER) from exc
    place_file(source, src, dest, dst)


def place_file(source: str, src: str, dest: str, dst: str) -> None:
    """Rename the checked OS path ``src`` onto ``dst`` (both resolved inside the root),
    creating the parents of ``dst`` when missing."""
    with os_errors(dest):
        if _is_real_dir(dst):
            # Park the source outside the doomed tree first: it may live inside it.
            parked = temp_name(dst)
            os.replace(src, parked)
            remove_tree(dst)
            src = parked
        try:
            os.replace(src, dst)
        except (FileNotFoundError, NotADirectoryError):
            if not os.path.lexists(src):
                raise PathNotFound(source, driver=DRIVER) from None
            make_parents(dest, dst)
            os.replace(src, dst)


def _is_real_dir(os_path: str) -> bool:
    """A directory, not a symlink to one (one ``lstat``)."""
    try:
        return stat_mod.S_ISDIR(os.lstat(os_path).st_mode)
    except OSError:
        return False


def _remove_flat(os_path: str) -> bool:
    """Remove a directory that holds only files (a blob's or a link's: the common case)
    with one listing, an unlink each and an rmdir; False, touching nothing, otherwise.

    ``shutil.rmtree``'s descriptor-based walk costs about ten system calls for such a
    directory, most of a garbage collection's system time. A symlink is unlinked, never
    followed; anything unexpected is left to ``rmtree``.
    """
    try:
        files: list[str] = []
        with os.scandir(os_path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):  # the listing's type: no stat
                    return False
                files.append(entry.path)
        for path in files:
            os.unlink(path)
        os.rmdir(os_path)
    except FileNotFoundError:
        return not os.path.lexists(os_path)
    except OSError:
        return False
    return True


def remove_tree(os_path: str) -> None:
    """``rmtree`` that tolerates entries vanishing or appearing during the removal."""
    if _remove_flat(os_path):
        return
    for attempt in range(5):
        try:
            shutil.rmtree(os_path)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY or attempt == 4:
                raise


def delete_path(root: Root, path: str) -> None:
    """Remove a file or tree and the uncommitted writer for the path, if any."""
    with os_errors(path):
        os_path, partial = root.resolve_file(path)
        found = unlink_quietly(partial)
        if _is_real_dir(os_path):
            remove_tree(os_path)
            found = True
        elif os.path.lexists(os_path):
            found = unlink_quietly(os_path) or found
        if not found:
            raise PathNotFound(path, driver=DRIVER)


def unlink_quietly(os_path: str) -> bool:
    """``os.unlink``; False when nothing was there."""
    try:
        os.unlink(os_path)
        return True
    except FileNotFoundError:
        return False
