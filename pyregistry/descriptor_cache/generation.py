"""The cache generation counter shared by the worker processes of one ``pyregistry serve``.

Each worker keeps its own in-memory blob descriptor cache; a delete in one worker must
be seen by the others on their very next request. The supervisor creates a small file,
every worker maps it into memory, a lookup reads the 8-byte counter (a memory load, no
system call) and a delete increments it under an exclusive ``flock``. A worker that
reads a value it did not expect empties its cache (see
:class:`~pyregistry.storage.cache.InMemoryBlobDescriptorCache`).

A torn read while another worker writes can only produce a value that differs from the
one expected, which merely empties a cache once more; once the delete's answer is sent,
the write is complete and every later read sees it.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import tempfile

#: Set by the multi-worker supervisor for its workers: the path of the counter file.
GENERATION_FILE_ENV = "PYREGISTRY_CACHE_GENERATION_FILE"

_COUNTER = struct.Struct("<Q")


class FileGeneration:
    """:class:`~pyregistry.storage.cache.Generation` in a memory-mapped file."""

    def __init__(self, path: str) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR)
        try:
            if os.fstat(fd).st_size < _COUNTER.size:
                raise OSError(f"{path} is not a cache generation file")
            self._map = mmap.mmap(fd, _COUNTER.size)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def value(self) -> int:
        value: int = _COUNTER.unpack_from(self._map)[0]
        return value

    def bump(self) -> int:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            value = (self.value() + 1) & 0xFFFFFFFFFFFFFFFF
            _COUNTER.pack_into(self._map, 0, value)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        return value

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def create_generation_file(directory: str | None = None) -> str:
    """A new counter file at zero (the supervisor removes it when it stops)."""
    fd, path = tempfile.mkstemp(prefix="pyregistry-cache-", suffix=".gen", dir=directory)
    try:
        os.write(fd, bytes(_COUNTER.size))
    finally:
        os.close(fd)
    return path
