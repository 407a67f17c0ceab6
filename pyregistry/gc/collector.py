"""One offline mark-and-sweep over a driver: mark everything, then sweep in order.

Marking completes before the first removal, so an unreadable manifest (or a storage error
while marking) ends the run with nothing changed. The run is only safe while nothing
pushes: the registry is stopped or read-only, exactly as for distribution's command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, TextIO

from pyregistry.gc.mark import mark
from pyregistry.gc.progress import Progress
from pyregistry.gc.references import ManifestUnreadable
from pyregistry.gc.report import Report
from pyregistry.gc.sweep import DEFAULT_CONCURRENCY, ChangeRecorder, SpareCheck, Sweeper
from pyregistry.storage import enumerate as stored
from pyregistry.storage.cache import BlobDescriptorCache
from pyregistry.storage.digest import Digest
from pyregistry.storage.enumerate import StoredBlob
from storage_drivers.base import StorageDriver


@dataclass(frozen=True)
class CollectOptions:
    dry_run: bool = False
    delete_untagged: bool = False
    concurrency: int = DEFAULT_CONCURRENCY


async def collect(
    driver: StorageDriver,
    options: CollectOptions = CollectOptions(),
    *,
    caches: Sequence[BlobDescriptorCache] = (),
    progress: Progress | None = None,
    out: TextIO | None = None,
    spare: SpareCheck | None = None,
    change: ChangeRecorder | None = None,
    forget: Callable[[Digest], None] | None = None,
    before_blobs: Callable[[Sweeper], Awaitable[None]] | None = None,
) -> Report:
    """Collect garbage on ``driver``; problems end up in ``report.errors``, never raised.

    ``out`` receives one line per object that goes (None: quiet); ``caches`` forget every
    removed object; ``spare``, ``change`` and ``forget`` are the sweeper's hooks (see
    :mod:`pyregistry.gc.sweep`); ``before_blobs`` runs after the link sweep, before any
    blob data goes (the online collector's repair step).
    """
    report = Report(dry_run=options.dry_run)
    progress = progress if progress is not None else Progress(enabled=False)
    # The blob store's listing only reads: a blob stored after it is simply no candidate
    # this time, and one listed is removed only if the mark left it out. Where the
    # driver's calls wait on a network or a device, it runs from the start, beside the
    # mark and the link sweep. Where they are quick system calls (tmpfs, a disk without
    # ``discard``), the work beside it is Python too, and each thread waited for the
    # other to give the GIL back (60,000 blobs on tmpfs: 5.3 s so, 4.8 s one after the
    # other); it then runs after the link sweep, and skips the blobs the mark kept.
    early = asyncio.create_task(_stored_blobs(driver)) if driver.removals_wait else None
    try:
        result = await mark(
            driver, delete_untagged=options.delete_untagged, report=report, progress=progress
        )
    except ManifestUnreadable as exc:
        _cancel(early)
        report.fail(f"manifest {exc}; nothing was deleted")
    except Exception as exc:  # noqa: BLE001 - storage trouble while marking: stop before any removal
        _cancel(early)
        report.fail(f"marking failed: {exc}; nothing was deleted")
    except BaseException:
        _cancel(early)
        raise
    else:
        sweeper = Sweeper(
            driver,
            report,
            dry_run=options.dry_run,
            caches=caches,
            progress=progress,
            out=out,
            spare=spare,
            concurrency=options.concurrency,
            change=change,
            forget=forget,
        )
        try:
            await sweeper.manifests(result.removals)
            await sweeper.layer_links(result.repositories, result.marked)
            if before_blobs is not None:
                await before_blobs(sweeper)
        except BaseException:
            _cancel(early)
            raise
        try:
            stored_blobs = await (early or _stored_blobs(driver, result.marked))
        except Exception as exc:  # noqa: BLE001 - any storage failure: reported, nothing removed
            report.fail(f"listing blobs failed: {exc}")
        else:
            await sweeper.blobs([b for b in stored_blobs if b.digest not in result.marked])
    progress.close()
    report.finish()
    return report


async def _stored_blobs(
    driver: StorageDriver, kept: AbstractSet[Digest] = frozenset()
) -> list[StoredBlob]:
    """The stored blobs, but those in ``kept``."""
    return [blob async for blob in stored.blobs(driver, leave_out=kept)]


def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is not None:
        task.cancel()
