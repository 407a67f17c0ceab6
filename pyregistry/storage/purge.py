"""Upload purging: abandoned upload sessions are removed once older than a cut-off.

Like distribution's, a session whose ``startedat`` is unreadable counts as infinitely old.
One whose ``startedat`` is missing is as old as its newest file (else its directory): a
session being created right now has its directory before its ``startedat``, and purging
it then would fail that push.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pyregistry.storage import paths
from pyregistry.storage.catalog import iter_repositories
from pyregistry.storage.context import StorageContext
from pyregistry.storage.names import UPLOAD_ID_PATTERN
from pyregistry.storage.started_at import parse_started_at
from pyregistry.storage.uploads import remove_upload
from storage_drivers.errors import PathNotFound


async def _started_at(ctx: StorageContext, repository: str, upload_id: str) -> datetime | None:
    try:
        text = await ctx.driver.get_content(paths.upload_started_at_path(repository, upload_id))
    except PathNotFound:
        return await _last_change(ctx, repository, upload_id)
    return parse_started_at(text.decode("utf-8", "replace"))


async def _last_change(ctx: StorageContext, repository: str, upload_id: str) -> datetime | None:
    """When a session without ``startedat`` last changed: its newest file, else
    its directory; None when none of it can be stat'ed (it counts as infinitely old)."""
    directory = paths.upload_path(repository, upload_id)
    newest: datetime | None = None
    try:
        async for info in ctx.driver.walk(directory):
            if not info.is_dir and (newest is None or info.mod_time > newest):
                newest = info.mod_time
        if newest is None:
            newest = (await ctx.driver.stat(directory)).mod_time
    except PathNotFound:
        return None
    return newest


async def purge_uploads(
    ctx: StorageContext, older_than_seconds: float, dry_run: bool = False
) -> int:
    """Remove (or with ``dry_run`` only count) sessions started before the cut-off."""
    if ctx.readonly:
        return 0  # distribution disables purging in read-only mode
    cutoff = datetime.fromtimestamp(time.time() - older_than_seconds, UTC)
    purged = 0
    async for repository in iter_repositories(ctx):
        try:
            children = await ctx.driver.list(paths.uploads_path(repository))
        except PathNotFound:
            continue
        for child in children:
            upload_id = child.rsplit("/", 1)[-1]
            if not UPLOAD_ID_PATTERN.fullmatch(upload_id):
                continue
            started = await _started_at(ctx, repository, upload_id)
            if started is not None and started >= cutoff:
                continue
            if dry_run or await remove_upload(ctx, repository, upload_id):
                ctx.forget_upload(repository, upload_id)
                purged += 1
    return purged
