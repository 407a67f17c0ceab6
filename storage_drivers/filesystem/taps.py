"""Showing a writer's batch to its tap (an upload's running hash) as the batch is written.

sha256 takes about 0.9 ms per MiB and a write into the page cache about 0.3: done one
after the other on the writer's thread, a big blob's bytes reach the disk at ~800 MiB/s
at best, and a big push, or a cold pull through the mirror (which stores as it streams),
waits for that thread. Where cores are to spare (:data:`SPLIT_CORES` or more usable ones,
a container's CPU quota counted: :mod:`storage_drivers.cpus`), a batch of
:data:`SPLIT_SIZE` or more is hashed on a thread of its own while the writer's thread
writes it (hashlib and ``writev`` both release the GIL): the batch takes the longer of
the two, not their sum (~1,100 MiB/s alone, the hash's own rate). On fewer cores the
client, the event loop and the writer already keep every core busy, and the second
thread only adds its hand-offs and cache misses (a 1 GiB push on 2 cores: 0.1-0.25 ms
more CPU per MiB, no faster); there, and for small batches everywhere, the tap sees each
group of :data:`GROUP_SIZE` on the writer's thread just before the group is written,
while its bytes are still in the CPU's cache.

The writer's thread waits for the tap before it returns, so taps see batches in order
and a tap never runs after its writer has moved on.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable

from storage_drivers.cpus import usable_cores
from storage_drivers.filesystem.ops import write_parts

Tap = Callable[[bytes], None]

#: A tap sees a small batch in groups this large, each written right after it is seen.
GROUP_SIZE = 256 * 1024
#: Untapped bytes from which a batch is hashed on a thread of its own while it is written.
SPLIT_SIZE = 512 * 1024
#: The name of the threads that run split taps.
THREAD_NAME = "pyregistry-tap"
#: Usable cores from which big batches are split (see the module's docstring).
SPLIT_CORES = 4
#: Whether big batches are split here (tests set it to try both ways).
split_allowed = usable_cores() >= SPLIT_CORES

_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _tap_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The process's pool for split taps (one thread per core: the work is hashing),
    made on first use. Its tasks never wait on anything, so a writer's thread waiting for
    one can never deadlock with it."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                os.cpu_count() or 2, thread_name_prefix=THREAD_NAME
            )
        return _pool


def _forget_pool() -> None:
    """A forked child has none of its parent's threads: it makes its own pool."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _show(tap: Tap, pieces: list[bytes]) -> None:
    for piece in pieces:
        tap(piece)


def tap_and_write(fd: int, pieces: list[bytes], tap: Tap | None, tapped: int) -> None:
    """Write ``pieces`` to ``fd``, each piece from index ``tapped`` on (the earlier ones
    the tap has seen) shown to ``tap``, in order, by the time this returns."""
    if tap is None:
        write_parts(fd, pieces)
        return
    unseen = pieces[tapped:]
    if split_allowed and sum(map(len, unseen)) >= SPLIT_SIZE:
        _split(fd, pieces, tap, unseen)
    else:
        _grouped(fd, pieces, tap, tapped)


def _split(fd: int, pieces: list[bytes], tap: Tap, unseen: list[bytes]) -> None:
    """The tap on the pool's thread, the write on this one, at the same time."""
    shown = _tap_pool().submit(_show, tap, unseen)
    try:
        write_parts(fd, pieces)
    finally:
        concurrent.futures.wait((shown,))  # done with the pieces, however the write went
    shown.result()


def _grouped(fd: int, pieces: list[bytes], tap: Tap, tapped: int) -> None:
    """In groups of about :data:`GROUP_SIZE`: each group's new pieces shown to the tap,
    then the group written."""
    group: list[bytes] = []
    grouped = 0
    for index, piece in enumerate(pieces):
        if index >= tapped:
            tap(piece)
        group.append(piece)
        grouped += len(piece)
        if grouped >= GROUP_SIZE:
            write_parts(fd, group)
            group, grouped = [], 0
    write_parts(fd, group)
