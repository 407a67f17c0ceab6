"""The root directory of the filesystem driver: the only way to turn a driver path into an
OS path, and the check that the result (symlinks resolved) stays inside the root.

Driver paths are already checked against the path grammar (no ``..``, no empty
components), so the joined path is lexically inside the root; only a symlink can lead out.
Resolving every path with ``os.path.realpath`` (one ``lstat`` and some Python per
component) cost more than the I/O it guarded, so the check is split:

* the parent directory: its real path is checked once and remembered with the device and
  inode it resolved to. Later calls only ``stat`` the parent (one system call, symlinks
  followed) and compare: a directory swapped for a symlink leading elsewhere resolves to
  another inode and is checked afresh. A directory met for the first time (every push
  creates some) is checked through its own parent when that one checks out: a real
  directory (``lstat``: not a symlink) inside a directory whose real path is inside the
  root is inside too, and so is a directory not there yet (nothing at all at its path)
  below one that is. ``realpath`` (an ``lstat`` per component) is the fallback;
* the last component: ``lstat``; only a symlink there is resolved in full.

The guarantee is the one ``realpath`` gave: nothing outside the root is touched, symlinks
included, short of a race with whoever changes the tree between the check and the use
(no path check closes that window).
"""

from __future__ import annotations

import os
import stat as stat_mod

from storage_drivers.errors import InvalidPath

DRIVER = "filesystem"
PARTIAL_SUFFIX = "~partial"
#: Parent directories remembered as verified; the memo is simply dropped when full.
MAX_VERIFIED_DIRECTORIES = 1 << 16


def partial_name(os_path: str) -> str:
    """The sidecar that holds a writer's uncommitted data for ``os_path``."""
    head, tail = os.path.split(os_path)
    return os.path.join(head, f".{tail}{PARTIAL_SUFFIX}")


class Root:
    """The root directory, and the only way to turn a driver path into an OS path."""

    def __init__(self, directory: str) -> None:
        self.directory = os.path.realpath(os.path.abspath(directory))
        self._prefix = self.directory.rstrip(os.sep) + os.sep
        #: OS path of a directory -> (st_dev, st_ino) it had when found inside the root.
        self._verified: dict[str, tuple[int, int]] = {}

    def contains(self, os_path: str) -> bool:
        """Whether ``os_path``, once every symlink is resolved, is inside the root."""
        real = os.path.realpath(os_path)
        return real == self.directory or real.startswith(self._prefix)

    def _directory_inside(self, directory: str, st: os.stat_result | None = None) -> bool:
        """Whether ``directory`` (``st``: its ``stat`` when the caller made it) resolves
        inside the root (a missing one: where it would be created)."""
        if st is None:
            try:
                st = os.stat(directory)
            except OSError:
                return self._missing_inside(directory)
        identity = (st.st_dev, st.st_ino)
        if self._verified.get(directory) == identity:
            return True
        if not (self._inside_by_parent(directory, identity) or self.contains(directory)):
            return False
        if len(self._verified) >= MAX_VERIFIED_DIRECTORIES:
            self._verified.clear()
        self._verified[directory] = identity
        return True

    def _missing_inside(self, directory: str) -> bool:
        """Whether a directory that does not resolve would be created inside the root.

        When nothing at all is there (``lstat`` fails too, up to the nearest ancestor
        that exists), there is nothing to follow and the ancestor decides, through the
        memo: two or three system calls instead of ``realpath``'s ``lstat`` per
        component (a small push creates a dozen directories). Anything else there (a
        dangling symlink, a file in the way) is resolved in full.
        """
        current = directory
        while True:
            if os.path.lexists(current):
                return self.contains(directory)
            parent = os.path.dirname(current)
            if parent == current or not (
                parent == self.directory or parent.startswith(self._prefix)
            ):
                return self.contains(directory)
            try:
                st = os.stat(parent)
            except OSError:
                current = parent
                continue
            return self._directory_inside(parent, st)

    def _inside_by_parent(self, directory: str, identity: tuple[int, int]) -> bool:
        """Whether ``directory`` (``identity``: what ``stat`` found) is a real directory,
        not a symlink, in a parent that is itself inside the root."""
        parent = os.path.dirname(directory)
        if parent == directory or not (parent == self.directory or parent.startswith(self._prefix)):
            return False
        if not self._directory_inside(parent):
            return False
        try:
            st = os.lstat(directory)
        except OSError:
            return False
        return not stat_mod.S_ISLNK(st.st_mode) and (st.st_dev, st.st_ino) == identity

    def _entry_inside(self, os_path: str) -> bool:
        """Whether the last component of ``os_path`` (parent verified) stays inside."""
        try:
            mode = os.lstat(os_path).st_mode
        except OSError:
            return True  # nothing there (or not a directory above): nothing to follow
        return not stat_mod.S_ISLNK(mode) or self.contains(os_path)

    def _refuse(self, path: str) -> InvalidPath:
        return InvalidPath(f"{path} (leaves the root directory)", driver=DRIVER)

    def resolve(self, path: str) -> str:
        """The OS path of a checked driver path; InvalidPath if it would leave the root."""
        if path == "/":
            return self.directory
        os_path = os.path.join(self.directory, path[1:])
        parent = os.path.dirname(os_path)
        if not (self._directory_inside(parent) and self._entry_inside(os_path)):
            raise self._refuse(path)
        return os_path

    def resolve_file(self, path: str) -> tuple[str, str]:
        """The OS paths of a file and of its writer sidecar, both verified."""
        os_path = self.resolve(path)
        partial = partial_name(os_path)
        if not self._entry_inside(partial):
            raise self._refuse(path)
        return os_path, partial
