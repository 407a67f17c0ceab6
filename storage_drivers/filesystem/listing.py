"""Listing the filesystem driver's folders: one level (``list``, ``scan``) or a whole
tree (``walk``), helper files and symlinks that lead out of the root left out.

Blocking, like :mod:`storage_drivers.filesystem.ops`: the driver runs these on its pool,
except :func:`folder_missing`, a ``stat`` it may make on the event loop.
"""

from __future__ import annotations

import itertools
import os
import stat as stat_mod
from collections.abc import Iterator

from storage_drivers.base import FileInfo
from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem.ops import child_path, file_info, os_errors, visible_name
from storage_drivers.filesystem.root import DRIVER, Root


def visible_entries(root: Root, path: str, os_path: str) -> list[tuple[str, os.DirEntry[str]]]:
    """Visible entries of a directory, sorted by name; escaping symlinks left out."""
    try:
        with os.scandir(os_path) as it:
            found = [(e.name, e) for e in it if visible_name(e.name)]
    except NotADirectoryError as exc:
        raise PathNotFound(path, driver=DRIVER) from exc
    found.sort(key=lambda pair: pair[0])
    return [(n, e) for n, e in found if not e.is_symlink() or root.contains(e.path)]


def folder_missing(root: Root, path: str) -> bool:
    """Whether nothing is at ``path``, or a file is (what :func:`list_dir` would answer
    with PathNotFound): a ``stat``, cheaper than the listing it saves."""
    with os_errors(path):
        os_path = root.resolve(path)
        try:
            return not stat_mod.S_ISDIR(os.stat(os_path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return True


def list_dir(root: Root, path: str) -> list[str]:
    with os_errors(path):
        os_path = root.resolve(path)
        try:
            entries = visible_entries(root, path, os_path)
        except FileNotFoundError:
            if path == "/":
                return []
            raise
        return [child_path(path, name) for name, _ in entries]


def scan_dir(root: Root, path: str) -> list[FileInfo]:
    """One level of a walk: the sorted visible children of ``path`` with their stats.

    A file (not a directory) has no children. Entries vanishing mid-scan are skipped.
    """
    with os_errors(path):
        os_path = root.resolve(path)
        try:
            entries = visible_entries(root, path, os_path)
        except PathNotFound:
            if os.path.lexists(os_path):
                return []
            raise
        except FileNotFoundError:
            if path == "/":
                return []
            raise
        infos: list[FileInfo] = []
        for name, entry in entries:
            try:
                infos.append(file_info(child_path(path, name), entry.stat()))
            except FileNotFoundError:
                continue
        return infos


def walk_tree(root: Root, path: str) -> Iterator[FileInfo]:
    """Every descendant of ``path``, depth-first in lexical order, as :func:`scan_dir`
    lists each level; a subtree removed mid-walk is skipped, a missing ``path`` raises
    PathNotFound (at the first ``next``)."""
    levels = [iter(scan_dir(root, path))]
    while levels:
        info = next(levels[-1], None)
        if info is None:
            levels.pop()
            continue
        yield info
        if info.is_dir:
            try:
                levels.append(iter(scan_dir(root, info.path)))
            except PathNotFound:
                continue


def next_batch(entries: Iterator[FileInfo], size: int) -> list[FileInfo]:
    """Up to ``size`` more entries of a walk (empty: the walk is over)."""
    return list(itertools.islice(entries, size))
