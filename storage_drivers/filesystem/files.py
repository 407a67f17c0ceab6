"""The file-only walk of the filesystem driver (``walk_files``).

``walk`` stats every entry for its ``FileInfo``, directories included. The blob store
holds a directory per blob and one per two-hex prefix beside each blob's single ``data``
file, so a whole-store tool that wants only the files (garbage collection, storage usage)
paid a stat and an object per directory for nothing. Here a directory is known from the
listing's entry type and entered through its already checked OS path (only the walked
path goes through :meth:`Root.resolve`; the listing leaves out symlinks that lead out of
the root); only files are stat-ed. Runs on the driver's thread pool, a batch per hop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from storage_drivers.base import FileInfo
from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem.ops import child_path, file_info, os_errors, visible_entries
from storage_drivers.filesystem.root import Root

_Level = Iterator[tuple[str, os.DirEntry[str]]]


def _level(root: Root, path: str, os_path: str) -> _Level:
    """The sorted visible entries of one directory with their driver paths."""
    return iter(
        [(child_path(path, name), entry) for name, entry in visible_entries(root, path, os_path)]
    )


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
