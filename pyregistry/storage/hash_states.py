"""An upload session's running hash across processes: its saved states, so a chunk that
lands on another worker or instance (or reaches a restarted process) takes up the running
hash where the last chunk left it, instead of leaving the commit to read the whole upload
again.

After a chunk, the process that hashed it saves the state at the session's new size
(``_uploads/<id>/hashstates/<alg>/<offset>``, distribution's path and format, so either
registry takes up the other's), once :data:`STATE_EVERY` bytes were hashed since its last
saved state: a big push's chunks cost one small write each, a small blob none. A process
whose running hash does not cover a session looks for the state at exactly its size, as
distribution does; a commit that still has no running hash starts from the latest state
below the size and hashes only the bytes after it.

A state is a shortcut, never the truth: one that is missing, unreadable or not of the
offset its name says is ignored (the bytes are hashed again), and a failed save costs
the next process its shortcut, not the client its chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from pyregistry.storage import paths
from pyregistry.storage.context import StorageContext, UploadProgress
from pyregistry.storage.digest import Digest
from pyregistry.storage.hashing import hash_stream
from pyregistry.storage.resumable_hash import (
    ResumableHash,
    RunningHash,
    fed,
    new_running_hash,
    restore,
)
from storage_drivers.errors import PathNotFound, StorageDriverError

log = logging.getLogger("pyregistry.storage")
T = TypeVar("T")

#: Bytes hashed since the last saved state before the next chunk saves one; also the
#: least offset looked up (re-reading less costs about what the look-up does).
STATE_EVERY = 4 * 1024 * 1024
#: Saved states tried, latest first, before a commit hashes the upload from its start.
TRIES = 3


async def following(
    ctx: StorageContext,
    repository: str,
    upload_id: str,
    progress: UploadProgress,
    start: int,
    algorithm: str,
) -> RunningHash | None:
    """The running hash at ``start`` bytes, or None when it cannot follow the session.

    The running hash must have seen every byte from the first: a fresh session gets one
    (in the algorithm of the digest, when the client already named it); a session that
    grew elsewhere (another process, a restart) takes up the state saved at ``start``, if
    any, else has none and commit re-reads its data.
    """
    if start == 0:
        progress.hasher, progress.offset, progress.saved = new_running_hash(algorithm), 0, 0
    elif progress.hasher is None or progress.offset != start:
        hasher = await taken_up(ctx, repository, upload_id, algorithm, start)
        progress.hasher, progress.offset = hasher, 0 if hasher is None else start
        progress.saved = progress.offset
    return progress.hasher


async def digest_of(
    ctx: StorageContext,
    repository: str,
    upload_id: str,
    size: int,
    algorithm: str,
    progress: UploadProgress,
) -> Digest:
    """The digest of the session's committed data: the running hash's when it saw every
    byte, else a second pass over the data, from the latest saved state below ``size``."""
    hasher = progress.hasher
    if hasher is not None and progress.offset == size and hasher.name == algorithm:
        return Digest(algorithm, hasher.hexdigest())
    saved = await latest(ctx, repository, upload_id, algorithm, size)
    taken, start = saved if saved is not None else (None, 0)
    if taken is None or start < size:  # (a ranged read at the end: some drivers refuse it)
        data = paths.upload_data_path(repository, upload_id)
        chunks = await ctx.driver.reader(data, start)
        return Digest(algorithm, await hash_stream(algorithm, chunks, taken))
    return Digest(algorithm, taken.hexdigest())


async def save(
    ctx: StorageContext, repository: str, upload_id: str, progress: UploadProgress
) -> None:
    """Save the running hash's state at the session's size, if it is due (see above)."""
    hasher = progress.hasher
    if not isinstance(hasher, ResumableHash) or progress.offset - progress.saved < STATE_EVERY:
        return
    path = paths.upload_hash_state_path(repository, upload_id, hasher.name, progress.offset)
    try:
        await ctx.driver.put_content(path, hasher.state())
    except StorageDriverError as exc:
        log.warning("could not save the hash state of %s: %s", upload_id, exc)
        return
    progress.saved = progress.offset


async def taken_up(
    ctx: StorageContext, repository: str, upload_id: str, algorithm: str, offset: int
) -> RunningHash | None:
    """The running hash after exactly the session's first ``offset`` bytes, from the state
    saved there; None when there is none (or it is not usable)."""
    if offset < STATE_EVERY:
        return None
    path = paths.upload_hash_state_path(repository, upload_id, algorithm, offset)
    state = await _found(ctx.driver.get_content(path), f"read the hash state of {upload_id}")
    if state is None or len(state) < 8 or fed(state) != offset:
        return None
    return restore(algorithm, state)


async def latest(
    ctx: StorageContext, repository: str, upload_id: str, algorithm: str, size: int
) -> tuple[RunningHash, int] | None:
    """The running hash of the latest saved state at or below ``size``, and its offset."""
    folder = paths.upload_hash_states_path(repository, upload_id, algorithm)
    names = await _found(ctx.driver.list(folder), f"list the hash states of {upload_id}")
    if names is None:
        return None
    offsets = [int(name) for name in (path.rsplit("/", 1)[-1] for path in names) if name.isdigit()]
    below = sorted((offset for offset in offsets if offset <= size), reverse=True)
    for offset in below[:TRIES]:
        hasher = await taken_up(ctx, repository, upload_id, algorithm, offset)
        if hasher is not None:
            return hasher, offset
    return None


async def _found(call: Awaitable[T], doing: str) -> T | None:
    """What ``call`` gives; None when there is nothing there, or when the storage failed
    (logged: a state is only a shortcut)."""
    try:
        return await call
    except PathNotFound:
        return None
    except StorageDriverError as exc:
        log.warning("could not %s: %s", doing, exc)
        return None
