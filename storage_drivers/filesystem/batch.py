"""``delete_many`` on the filesystem: many directories removed with few system calls.

A garbage collection removes tens of thousands of small directories (a blob's holds its
``data``, a layer link's its ``link``). On a disk that discards freed blocks, each unlink
and rmdir waits for the device, so the run is bound by how many removals are in flight
and by how many system calls each costs, every one of them a GIL hand-over between the
driver's threads (an earlier version spent ~11 calls per directory: a resolve, an
``lstat``, a listing, the sidecar probe; the GIL traffic then cost more than the work).

Here the paths of one batch are grouped by parent directory: each parent is resolved
and opened once, and listed once when many of its children go (that listing answers "is
it there", "is it a directory or a symlink" and "is there a writer's sidecar" for every
child; for a few children each is looked up instead), and each child is removed relative
to the parent's descriptor. A directory is emptied by unlinking the file names
its predecessor in the batch held (siblings look alike) and removed with ``rmdir``,
which only succeeds on an empty directory; if names differ, it is listed and emptied,
and anything deeper goes to ``rmtree``. Children are opened with ``O_NOFOLLOW``: a
directory swapped for a symlink meanwhile is never followed out of the root. Symlinks
found by the listing take the driver's full checks (``delete_path``).
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
from collections.abc import Sequence

from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem.ops import (
    delete_path,
    driver_error,
    os_errors,
    remove_tree,
    unlink_quietly,
)
from storage_drivers.filesystem.root import PARTIAL_SUFFIX, Root

#: Children of one parent in a batch from which the parent is listed once.
LIST_FROM = 32
_PARENT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
#: A child is never followed: its listing or lookup said it is a directory, not a symlink.
_CHILD_FLAGS = _PARENT_FLAGS | os.O_NOFOLLOW


def delete_batch(root: Root, paths: Sequence[str]) -> list[bool]:
    """``delete_path`` for each path; per path whether something was there (a path given
    twice is there only the first time)."""
    found = [False] * len(paths)
    by_parent: dict[str, list[int]] = {}
    for index, path in enumerate(paths):
        by_parent.setdefault(path.rpartition("/")[0] or "/", []).append(index)
    for parent, indexes in by_parent.items():
        _delete_children(root, parent, [(i, paths[i]) for i in indexes], found)
    return found


def _delete_children(
    root: Root, parent: str, children: list[tuple[int, str]], found: list[bool]
) -> None:
    with os_errors(parent):
        try:
            os_parent = root.resolve(parent)
            parent_fd = os.open(os_parent, _PARENT_FLAGS)  # resolved: inside the root
        except (PathNotFound, FileNotFoundError, NotADirectoryError):
            return  # no parent directory: none of its children is there
    try:
        with os_errors(parent):
            directory = _Parent(os_parent, parent_fd, listed=len(children) >= LIST_FROM)
        siblings = _Siblings()
        for index, path in children:
            try:  # (not os_errors: a context manager per child was a tenth of the batch)
                found[index] = _delete_child(root, path, directory, siblings)
            except OSError as exc:
                raise driver_error(path, exc) from exc
    finally:
        os.close(parent_fd)


class _Parent:
    """An open parent directory and what it holds: from one listing when many of its
    children go, else asked child by child (a listing of hundreds for a few costs more)."""

    def __init__(self, os_path: str, fd: int, listed: bool) -> None:
        self.os_path = os_path
        self.fd = fd
        self.entries: dict[str, os.DirEntry[str]] | None = None
        if listed:
            with os.scandir(fd) as listing:
                self.entries = {entry.name: entry for entry in listing}
        self._taken: set[str] = set()

    def take(self, name: str) -> int | None:
        """The ``S_IFMT`` type of child ``name`` (None: not there, or already taken)."""
        if name in self._taken:
            return None
        self._taken.add(name)
        if self.entries is None:
            try:
                return stat_mod.S_IFMT(os.lstat(name, dir_fd=self.fd).st_mode)
            except (FileNotFoundError, NotADirectoryError):
                return None
        entry = self.entries.get(name)
        if entry is None:
            return None
        if entry.is_symlink():
            return stat_mod.S_IFLNK
        return stat_mod.S_IFDIR if entry.is_dir(follow_symlinks=False) else stat_mod.S_IFREG

    def drop_sidecar(self, name: str) -> bool:
        """Unlink the writer's sidecar of child ``name``; whether there was one."""
        partial = f".{name}{PARTIAL_SUFFIX}"
        if self.entries is not None and partial not in self.entries:
            return False
        return self.take(partial) is not None and _unlink_at(partial, self.fd)


def _delete_child(root: Root, path: str, parent: _Parent, siblings: _Siblings) -> bool:
    """Remove ``path`` (a child of ``parent``) and its writer's sidecar; whether either
    was there."""
    name = path.rpartition("/")[2]
    there = parent.drop_sidecar(name)
    kind = parent.take(name)
    if kind is None:
        return there
    if kind == stat_mod.S_IFLNK:
        try:
            delete_path(root, path)
        except PathNotFound:
            return there
        return True
    if kind == stat_mod.S_IFDIR:
        siblings.remove(parent.fd, name, os.path.join(parent.os_path, name))
        return True
    return _unlink_at(name, parent.fd) or there


def _unlink_at(name: str, dir_fd: int) -> bool:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    return True


class _Siblings:
    """Removes directories of one parent, guessing each one's files from the last."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def remove(self, parent_fd: int, name: str, os_path: str) -> None:
        try:
            fd = os.open(name, _CHILD_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            unlink_quietly(os_path)  # no longer a directory: a symlink or file now
            return
        try:
            for file_name in self.names:
                try:
                    _unlink_at(file_name, fd)
                except IsADirectoryError:
                    break  # not alike after all: listed below
            if self._rmdir(parent_fd, name):
                return
            emptied = self._empty(fd)
        finally:
            os.close(fd)
        if emptied is not None:
            self.names = emptied
            if self._rmdir(parent_fd, name):
                return
        remove_tree(os_path)

    @staticmethod
    def _rmdir(parent_fd: int, name: str) -> bool:
        """``rmdir``; False while the directory still holds something."""
        try:
            os.rmdir(name, dir_fd=parent_fd)
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            raise
        return True

    @staticmethod
    def _empty(fd: int) -> list[str] | None:
        """Unlink every file in the directory ``fd``; the names unlinked, or None (touching
        nothing) when it holds a directory."""
        with os.scandir(fd) as listing:
            children = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing]
        if any(is_dir for _, is_dir in children):
            return None
        for name, _ in children:
            _unlink_at(name, fd)
        return [name for name, _ in children]
