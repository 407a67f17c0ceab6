"""Typed errors every driver raises, so callers never depend on a backend's own exceptions."""

from __future__ import annotations


class StorageDriverError(Exception):
    """Base class for every error a storage driver raises."""

    def __init__(self, message: str, *, driver: str = "", path: str = "") -> None:
        super().__init__(message)
        self.driver = driver
        self.path = path


class StorageFull(StorageDriverError):
    """The backend has no room left (a full disk, an exhausted quota)."""


class PathNotFound(StorageDriverError):
    """The path does not exist (or a resumed writer has no upload in progress)."""

    def __init__(self, path: str, *, driver: str = "") -> None:
        super().__init__(f"path not found: {path}", driver=driver, path=path)


class InvalidPath(StorageDriverError):
    """The path does not match the driver path grammar."""

    def __init__(self, path: str, *, driver: str = "") -> None:
        super().__init__(f"invalid path: {path!r}", driver=driver, path=path)


class InvalidOffset(StorageDriverError):
    """A read started before 0 or past the end of the file."""

    def __init__(self, path: str, offset: int, *, driver: str = "") -> None:
        super().__init__(f"invalid offset {offset} for {path}", driver=driver, path=path)
        self.offset = offset


class ConditionFailed(StorageDriverError):
    """A conditional write or delete found the object not as required (present when it had
    to be absent, or at another version)."""


class Unsupported(StorageDriverError):
    """The driver cannot do this operation (for example a redirect on the filesystem)."""


class WriterClosed(StorageDriverError):
    """A write, commit or cancel on a writer that was already closed, committed or cancelled."""
