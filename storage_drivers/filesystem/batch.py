"""``delete_many`` on the filesystem: many directories removed with few system calls.

A garbage collection removes tens of thousands of small directories (a blob's holds its
``data``, a layer link's its ``link``). On a disk that discards freed blocks, each unlink
and rmdir waits for the device, so the run is bound by how many removals are in flight
and by how many system calls each costs, every one of them a GIL hand-over between the
driver's threads (an earlier version spent ~11 calls per directory: a resolve, an
``lstat``, a listing, the sidecar probe; the GIL traffic then cost more than the work).

Here the paths of one batch are grouped by parent directory: each parent is resolved
and listed once (that listing answers "is it there", "is it a directory or a symlink"
and "is there a writer's sidecar" for every child), then opened, and each child is
removed relative to that descriptor. A directory is emptied by unlinking the file names
its predecessor in the batch held (siblings look alike) and removed with ``rmdir``,
which only succeeds on an empty directory; if names differ, it is listed and emptied,
and anything deeper goes to ``rmtree``. Children are opened with ``O_NOFOLLOW``: a
directory swapped for a symlink meanwhile is never followed out of the root. Symlinks
found by the listing take the driver's full checks (``delete_path``).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence

from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem.ops import delete_path, os_errors, remove_tree, unlink_quietly
from storage_drivers.filesystem.root import PARTIAL_SUFFIX, Root

_PARENT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
#: A child is never followed: the parent's listing said it is a directory, not a symlink.
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
        with os_errors(parent), os.scandir(parent_fd) as listing:
            entries = {entry.name: entry for entry in listing}
        siblings = _Siblings()
        for index, path in children:
            name = path.rpartition("/")[2]
            with os_errors(path):
                found[index] = _delete_child(
                    root, path, (os_parent, parent_fd), name, entries, siblings
                )
    finally:
        os.close(parent_fd)


def _delete_child(
    root: Root,
    path: str,
    parent: tuple[str, int],
    name: str,
    entries: dict[str, os.DirEntry[str]],
    siblings: _Siblings,
) -> bool:
    """Remove ``name`` of the directory ``parent`` (its OS path and an open descriptor),
    and its writer's sidecar; whether either was there (``entries``: its listing)."""
    os_parent, parent_fd = parent
    there = False
    partial = f".{name}{PARTIAL_SUFFIX}"
    if entries.pop(partial, None) is not None:
        there = _unlink_at(partial, parent_fd)
    entry = entries.pop(name, None)
    if entry is None:
        return there
    if entry.is_symlink():
        try:
            delete_path(root, path)
        except PathNotFound:
            return there
        return True
    if entry.is_dir(follow_symlinks=False):
        siblings.remove(parent_fd, name, os.path.join(os_parent, name))
        return True
    return _unlink_at(name, parent_fd) or there


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
