"""One writer at a time per upload session: the interface the upload store relies on.

A chunk is checked against the session's size and then appended; two requests doing that
at once (two workers, two instances, or two tasks) would both pass the check and both
be acknowledged. So every write to a session (PATCH, the final PUT, DELETE) runs inside
``exclusive(repository, upload_id)``, and a second writer is refused with 416 at once.

The registry is handed an implementation that reaches across processes
(:mod:`pyregistry.tasks.upload_leases`: an ``flock`` on the filesystem driver, else Redis
or a lease object in storage). :class:`LocalUploadLocks`, the default, covers one process
only: for embedded and test registries. It holds an entry exactly as long as a writer
does, so it can never drop a lock that is still in use.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from pyregistry.storage.errors import RangeInvalid


class UploadSessionBusy(RangeInvalid):
    """Another request is writing to this upload session (HTTP 416, as out of order)."""

    default_message = "another request is writing to this upload session"


class SessionHold:
    """A write's hold on its session, as ``exclusive`` yields it. The writer says when it
    has removed the session's folder: a lock kept there (a lease record in storage) went
    with it, and giving it back would be one more request for nothing."""

    def __init__(self) -> None:
        self.removed = False

    def session_removed(self) -> None:
        self.removed = True


class UploadLocks(Protocol):
    def exclusive(
        self, repository: str, upload_id: str
    ) -> AbstractAsyncContextManager[SessionHold]:
        """Hold the session for one write; UploadSessionBusy when another writer has it,
        BlobUploadUnknown when the session is gone."""
        ...

    async def close(self) -> None: ...


class LocalUploadLocks:
    """The sessions being written by this process right now (and nothing else)."""

    def __init__(self) -> None:
        self._writing: set[tuple[str, str]] = set()

    @contextlib.asynccontextmanager
    async def exclusive(self, repository: str, upload_id: str) -> AsyncIterator[SessionHold]:
        key = (repository, upload_id)
        if key in self._writing:
            raise UploadSessionBusy(detail={"uuid": upload_id})
        self._writing.add(key)
        try:
            yield SessionHold()
        finally:
            self._writing.discard(key)

    async def close(self) -> None:
        pass
