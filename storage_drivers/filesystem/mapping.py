"""A chunk of a file to send on, mapped rather than copied.

Serving a blob reads each MiB into a fresh buffer and writes it to the socket: two
copies, and the first costs as much as the write. A chunk mapped from the file (the page
cache's own pages, faulted in at once) goes to the socket with one copy, the socket's: a
1 GiB pull took 0.83 ms of the server's CPU per MiB with reads and 0.60 mapped, and ran
at 1,570-1,650 MiB/s instead of 1,100 (``python -m bench --rows pull``, /dev/shm, 2
cores).

Only where it is safe (:func:`~storage_drivers.filesystem.mounts.maps_safely`: a local
filesystem) and only for chunks that are sent on untouched (``send_reader``): the
process never reads the pages itself. A blob's file is never rewritten in place (a new
version is a new file moved over the path), so a mapping reads what the descriptor
opened. A file shorter than expected (changed under us, not ours to lock) is read, not
mapped: a page past the end of a file cannot be read through a mapping. Where the
kernel refuses the mapping (out of address space, a file that cannot be mapped), the
chunk is read as well.
"""

from __future__ import annotations

import mmap
import os

from storage_drivers.base import DEFAULT_CHUNK_SIZE


def map_or_read(fd: int, length: int, offset: int) -> bytes | memoryview:
    """``length`` bytes of ``fd`` at ``offset``: a view of a mapping when the file holds
    them all, else what ``pread`` returns of at most one MiB of them (a window of
    several MiB is asked for in one piece, but is not copied in one)."""
    if os.fstat(fd).st_size < offset + length:
        return os.pread(fd, min(length, DEFAULT_CHUNK_SIZE), offset)
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    try:
        mapping = mmap.mmap(
            fd,
            length + offset - start,
            flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
            prot=mmap.PROT_READ,
            offset=start,
        )
    except (OSError, ValueError):
        return os.pread(fd, min(length, DEFAULT_CHUNK_SIZE), offset)
    return memoryview(mapping)[offset - start :]
