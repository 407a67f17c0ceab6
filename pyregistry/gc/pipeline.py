"""Offline sweep of layer links and blob data side by side, without ever dangling a link.

On the filesystem a removal mostly waits for the disk, and the offline sweep removes a
directory per unmarked layer link and per unmarked blob. Run one after the other, the link
sweep and the blob sweep each leave the disk and a core idle at their tails; here they
overlap, by slices of the digest space (the first hex digit of the blob's digest).

Why it never dangles: every link to an unmarked blob is itself unmarked (a link is swept
exactly when the blob it names is), and a link to a blob of slice ``s`` lies in slice
``s`` too. So all of a repository's doomed links are listed first (listings only), and
the data of slice ``s`` goes only after every link of slice ``s`` went; a blob whose link
could not be removed keeps its data (the error is reported), so a crash or a failure
leaves at worst garbage for the next run, never a link to missing data. Slice ``s+1``'s
links go while slice ``s``'s blobs do.

Only the offline collector uses this: the online one re-checks each object before its
removal and repairs links between the two sweeps (see :mod:`pyregistry.gc.online`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Sequence

from pyregistry.gc.sweep import BATCH, Sweeper
from pyregistry.storage import enumerate as stored
from pyregistry.storage.digest import Digest
from pyregistry.storage.enumerate import StoredBlob

#: Slices of the digest space, by the first hex digit of a digest.
SLICES = 16


def _slice(digest: Digest) -> int:
    return int(digest.hex[0], 16) % SLICES


async def sweep_links_and_blobs(
    sweeper: Sweeper,
    repositories: Iterable[str],
    marked: set[Digest],
    listing: asyncio.Task[list[StoredBlob]],
) -> None:
    """Remove the unmarked layer links of ``repositories`` and the data of the blobs
    ``listing`` finds unmarked, overlapped by digest slice (see the module docstring)."""
    doomed = await _doomed_links(sweeper, list(repositories), marked)
    link_count = sum(len(digests) for digests in doomed.values())
    slices: list[list[tuple[str, list[Digest]]]] = [[] for _ in range(SLICES)]
    for repository, digests in doomed.items():
        by_slice: dict[int, list[Digest]] = {}
        for digest in digests:
            by_slice.setdefault(_slice(digest), []).append(digest)
        for number, part in by_slice.items():
            for start in range(0, len(part), BATCH):
                slices[number].append((repository, part[start : start + BATCH]))
    #: Per slice, once its links went: the digests whose link stayed (None: all stay).
    links_done: list[asyncio.Future[set[Digest] | None]] = [
        asyncio.get_running_loop().create_future() for _ in range(SLICES)
    ]
    sweeper.progress.phase("sweep layer links and blobs", link_count)

    async def links() -> None:
        try:
            for number, batches in enumerate(slices):
                kept: set[Digest] = set()
                await sweeper.for_each(
                    batches, functools.partial(_remove_links, sweeper, kept=kept)
                )
                links_done[number].set_result(kept)
        finally:
            for done in links_done:  # stopped midway: the rest of the data stays
                if not done.done():
                    done.set_result(None)

    async def blobs(candidates: Sequence[StoredBlob]) -> None:
        by_slice: list[list[StoredBlob]] = [[] for _ in range(SLICES)]
        for blob in candidates:
            by_slice[_slice(blob.digest)].append(blob)
        sweeper.progress.grow(len(candidates))
        for number, part in enumerate(by_slice):
            kept = await links_done[number]
            if kept is None:
                return
            for blob in part:
                if blob.digest in kept:
                    sweeper.report.warn(f"blob {blob.digest} kept: a link to it remains")
            await sweeper.blobs([blob for blob in part if blob.digest not in kept], phase=False)

    link_sweep = asyncio.create_task(links())
    try:
        try:
            candidates = await listing
        except Exception as exc:  # noqa: BLE001 - any storage failure: reported, no blob removed
            sweeper.report.fail(f"listing blobs failed: {exc}")
            candidates = []
        await blobs(candidates)
    finally:
        await link_sweep


async def _doomed_links(
    sweeper: Sweeper, repositories: list[str], marked: set[Digest]
) -> dict[str, list[Digest]]:
    """Each repository's links to unmarked blobs, from listings alone."""
    doomed: dict[str, list[Digest]] = {}

    async def find(repository: str) -> None:
        found = [d async for d in stored.linked_digests(sweeper.driver, repository)]
        doomed[repository] = [d for d in found if d not in marked]

    await sweeper.for_each(repositories, find)
    return {repository: doomed[repository] for repository in repositories if doomed[repository]}


async def _remove_links(
    sweeper: Sweeper, batch: tuple[str, list[Digest]], kept: set[Digest]
) -> None:
    repository, digests = batch
    gone = await sweeper.remove_layer_link_batch(repository, digests)
    kept.update(digest for digest, removed in zip(digests, gone, strict=True) if not removed)
    sweeper.progress.advance(len(digests))
