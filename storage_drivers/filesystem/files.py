"""Whole-store batches on the filesystem: a file-only walk and a delete of many paths.

``walk`` stats every entry for its ``FileInfo``, directories included. The blob store
holds a directory per blob and one per two-hex prefix beside each blob's single ``data``
file, so a whole-store tool that wants only the files (garbage collection, storage usage)
paid a stat and an object per directory for nothing. Here a directory is known from the
listing's entry type and entered through its already checked OS path (only the walked
path goes through :meth:`Root.resolve`; the listing leaves out symlinks that lead out of
the root); only files are stat-ed. Runs on the driver's thread pool, a batch per hop.
:func:`delete_batch` is ``delete_many``'s body (see there).
"""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Iterator

from storage_drivers.base import FileInfo
from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem.ops import (
    _entries,
    _unlink_quietly,
    child_path,
    delete_path,
    file_info,
    os_errors,
    remove_tree,
)
from storage_drivers.filesystem.root import Root, partial_name

_Level = Iterator[tuple[str, os.DirEntry[str]]]


def _level(root: Root, path: str, os_path: str) -> _Level:
    """The sorted visible entries of one directory with their driver paths."""
    return iter([(child_path(path, name), entry) for name, entry in _entries(root, path, os_path)])


def _top(root: Root, path: str) -> _Level:
    with os_errors(path):
        os_path = root.resolve(path)
        try:
            return _level(root, path, os_path)
        except PathNotFound:
            if os.path.lexists(os_path):
                return iter(())  # a file walks as nothing
            raise
        except FileNotFoundError:
            if path == "/":
                return iter(())
            raise


def walk_files_tree(root: Root, path: str) -> Iterator[FileInfo]:
    """Every file below ``path``, depth-first in lexical order; entries and subtrees that
    vanish mid-walk are skipped, a missing ``path`` raises PathNotFound (first ``next``)."""
    levels = [_top(root, path)]
    while levels:
        item = next(levels[-1], None)
        if item is None:
            levels.pop()
            continue
        child, entry = item
        try:
            if entry.is_dir():
                levels.append(_level(root, child, entry.path))
            else:
                yield file_info(child, entry.stat())
        except (FileNotFoundError, NotADirectoryError, PathNotFound):
            continue


def delete_batch(root: Root, paths: list[str]) -> list[bool]:
    """``delete_path`` for each path; per path whether something was there.

    Paths sharing a parent directory (a blob store prefix, a repository's ``_layers``)
    have it checked once per batch, not once per path; each entry is still ``lstat``-ed,
    and anything but a plain file or directory (a symlink) takes the full checks of
    ``delete_path``. About half the system calls of deleting a blob's directory went to
    checking the same parent again.
    """
    parents: dict[str, str] = {}
    found: list[bool] = []
    for path in paths:
        head, _, name = path.rpartition("/")
        try:
            os_parent = parents.get(head)
            if os_parent is None:
                os_parent = os.path.dirname(root.resolve(path))
                parents[head] = os_parent
            found.append(_delete_entry(root, path, os.path.join(os_parent, name)))
        except PathNotFound:
            found.append(False)
    return found


def _delete_entry(root: Root, path: str, os_path: str) -> bool:
    with os_errors(path):
        there = _unlink_quietly(partial_name(os_path))
        try:
            mode = os.lstat(os_path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return there
        if stat_mod.S_ISDIR(mode):
            remove_tree(os_path)
            return True
        if stat_mod.S_ISLNK(mode):
            try:
                delete_path(root, path)
            except PathNotFound:
                return there
            return True
        return _unlink_quietly(os_path) or there
