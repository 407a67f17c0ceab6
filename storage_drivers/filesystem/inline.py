"""Small metadata reads on the event loop, while the filesystem answers them fast.

Handing a call to the thread pool costs about 60 µs of CPU (queue it, wake a worker,
hand the result back to the loop); reading a link file of 71 bytes or ``stat``-ing a
path whose metadata the kernel has cached costs about 20 µs in all. A manifest GET by
tag reads two links and a blob HEAD a link and a stat, so on a local filesystem the hops
were a quarter of their CPU. The driver therefore makes ``get_content`` of small files,
``stat``, the ``open`` of a streamed read and its reads of up to :data:`INLINE_MAX_BYTES`
directly on the loop - as long as they stay fast. Each one slower than
:data:`SLOW_SECONDS` adds its time to a debt that halves every second; once the debt
passes :data:`DEBT_LIMIT_SECONDS` (a cold disk, a network filesystem, one hung call) every
such call goes back to the thread pool for :data:`BACKOFF_SECONDS`, then the loop tries
again. Only calls during which the thread slept count (its voluntary context switches,
from ``getrusage``): a call the scheduler merely preempted on a busy machine was not
waiting for the filesystem and does not move the reads.
The one write made there is the start of a writer (an upload session's directory, marker
and empty sidecar, unsynced: a handful of system calls, one per blob of a push). Other
writes, listings, walks, moves, deletes and big reads always run on the pool, and
``inlinereads: false`` keeps the small calls there too.
"""

from __future__ import annotations

import os

from storage_drivers.filesystem.ops import open_regular, os_errors
from storage_drivers.filesystem.root import Root
from storage_drivers.inline_gate import InlineGate as InlineGate  # re-exported: the driver's gate

#: Files up to this size are read whole on the loop (links, most manifests).
INLINE_MAX_BYTES = 64 * 1024


def read_small(root: Root, path: str, limit: int = INLINE_MAX_BYTES) -> bytes | None:
    """The whole file if it holds at most ``limit`` bytes, else None (read it elsewhere)."""
    with os_errors(path):
        fd, size = open_regular(path, root.resolve(path))
        try:
            if size > limit:
                return None
            parts: list[bytes] = []
            while chunk := os.read(fd, max(size, 4096)):
                parts.append(chunk)
            return b"".join(parts)
        finally:
            os.close(fd)
