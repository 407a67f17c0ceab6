"""Upload purging: abandoned upload sessions are removed once older than a cut-off.

Like distribution's, a session whose ``startedat`` is missing or unreadable counts as
infinitely old.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pyregistry.storage import paths
from pyregistry.storage.catalog import iter_repositories
from pyregistry.storage.context import StorageContext
from pyregistry.storage.names import UPLOAD_ID_PATTERN
from pyregistry.storage.uploads import parse_started_at, remove_upload
from storage_drivers.errors import PathNotFound


async def _started_at(ctx: StorageContext, repository: str, upload_id: str) -> datetime | None:
    try:
        text = await ctx.driver.get_content(paths.upload_started_at_path(repository, upload_id))
    except PathNotFound:
        return None
    return parse_started_at(text.decode("utf-8", "replace"))


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
            if not UPLOAD_ID_PATTERN.match(upload_id):
                continue
            started = await _started_at(ctx, repository, upload_id)
            if started is not None and started >= cutoff:
                continue
            if dry_run or await remove_upload(ctx, repository, upload_id):
                ctx.forget_upload(repository, upload_id)
                purged += 1
    return purged
