"""The cyclic garbage collector's pace for commands that go over a whole store.

Collecting, measuring or indexing a store allocates a few objects per file: millions on
a large root, nearly all short-lived and free of reference cycles (reference counting
frees them), beside a heap that only grows (the marked digests, the listings). Python
starts a young-generation scan every 700 allocations and a full one whenever that heap
has grown by a quarter, so the scans cost a fifth of a 60,000-blob collection's CPU and
found nothing. For the command's duration, the objects that exist at its start (the
imported modules) are left out of every scan (``gc.freeze``) and young scans run a
hundred times less often; cycles are still found, later.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: Allocations (net) between two young-generation scans while a whole store is walked.
BULK_THRESHOLD = 70_000


@contextlib.contextmanager
def bulk_allocation() -> Iterator[None]:
    """Scan for cycles rarely during the block; the previous pace afterwards."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(BULK_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
