"""The audit log: pushes, deletes, logins and permission changes, with actor, client
address and time, kept in the registry's storage so every instance on that storage
writes to and reads the same log, and it lasts as long as the images do.

Each entry is one small JSON object at ``/pyregistry/audit/<day>/<hour>/<id>.json``
(UTC; outside ``docker/``, so distribution never sees it). The ``id`` starts with the
time in nanoseconds, so names sort by time and two instances never write the same
name; an entry is written whole by the driver's ``put_content`` or not at all. Paging
is newest first, by cursor (``before`` an entry id): it lists the newest directories
only, as far as one page needs, and a filtered page reads at most ``MAX_SCAN`` entries
(its ``next`` then resumes the search).

Pushes and deletes are heard through the notifications listener (``AuditSink``, an
:class:`~pyregistry.events.EventSink`), whoever makes them: ``/v2/``, this API, a
mirror. Logins come from the access controllers (``record_login``); permission and user
changes from the service layer itself.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

from pyregistry.events import MANIFEST_DELETE, MANIFEST_PUSH, TAG_DELETE, Caller
from pyregistry.management.principal import Principal
from pyregistry.management.views import AuditEntry, Page
from pyregistry.storage.paths import PYREGISTRY_ROOT
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound, StorageDriverError

log = logging.getLogger("pyregistry.management")

ROOT = f"{PYREGISTRY_ROOT}/audit"
_ID = re.compile(r"[0-9]{20}-[0-9a-f]{8}")
#: At most this many entries are read to fill one filtered page.
MAX_SCAN = 5000


def _directory(stamp_ns: int) -> str:
    return time.strftime("%Y-%m-%d/%H", time.gmtime(stamp_ns / 1e9))


class AuditLog:
    def __init__(self, driver: StorageDriver, root: str = ROOT) -> None:
        self.driver = driver
        self.root = root.rstrip("/")

    async def append(
        self,
        actor: str | None,
        address: str | None,
        action: str,
        target: str,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Write one entry; a storage failure is logged, never raised (the change it
        records has happened)."""
        stamp = time.time_ns()
        entry = AuditEntry(
            id=f"{stamp:020d}-{secrets.token_hex(4)}",
            time=stamp / 1e9,
            actor=actor,
            address=address,
            action=action,
            target=target,
            details=details or {},
        )
        path = f"{self.root}/{_directory(stamp)}/{entry.id}.json"
        try:
            await self.driver.put_content(path, json.dumps(entry.as_dict()).encode())
        except (StorageDriverError, OSError) as exc:
            log.error("audit entry %s %s lost: %s", action, target, exc)
        return entry

    async def record(
        self, who: Principal, action: str, target: str, details: dict[str, Any] | None = None
    ) -> AuditEntry:
        return await self.append(who.user, who.address, action, target, details)

    async def record_login(self, user: str, address: str | None, via: str, ok: bool) -> None:
        """A login (``ok``) or a failed attempt, by the token service or basic auth."""
        action = "login" if ok else "login.failed"
        await self.append(user, address, action, user, {"via": via})

    async def _names(self, path: str) -> list[str]:
        try:
            children = await self.driver.list(path)
        except PathNotFound:
            return []
        return sorted((c.rstrip("/").rsplit("/", 1)[-1] for c in children), reverse=True)

    async def page(
        self,
        *,
        before: str | None = None,
        limit: int = 50,
        action: str | None = None,
        actor: str | None = None,
    ) -> Page[AuditEntry]:
        """Entries newest first, older than ``before`` (an id from a previous page's
        ``next``); ``action`` matches a prefix (``member`` matches ``member.set``)."""
        if before is not None and not _ID.fullmatch(before):
            raise ValueError("before must be an audit entry id")
        edge = _directory(int(before.split("-")[0])) if before else None
        found: list[AuditEntry] = []
        scanned = 0
        for day in await self._names(self.root):
            if edge is not None and day > edge.split("/")[0]:
                continue
            for hour in await self._names(f"{self.root}/{day}"):
                if edge is not None and f"{day}/{hour}" > edge:
                    continue
                for name in await self._names(f"{self.root}/{day}/{hour}"):
                    entry_id = name.removesuffix(".json")
                    if before is not None and entry_id >= before:
                        continue
                    scanned += 1
                    entry = await self._read(f"{self.root}/{day}/{hour}/{name}")
                    if entry is not None and _wanted(entry, action, actor):
                        found.append(entry)
                    if len(found) > limit:
                        return _paged(found, limit)
                    if scanned >= MAX_SCAN:  # a sparse filter: resume after this entry
                        return Page(found, None, 0, limit, entry_id)
        return _paged(found, limit)

    async def _read(self, path: str) -> AuditEntry | None:
        try:
            data = json.loads(await self.driver.get_content(path))
            return AuditEntry(**data)
        except (StorageDriverError, OSError, ValueError, TypeError) as exc:
            log.warning("audit entry %s unreadable: %s", path, exc)
            return None


def _wanted(entry: AuditEntry, action: str | None, actor: str | None) -> bool:
    if action and not (entry.action == action or entry.action.startswith(action + ".")):
        return False
    return not actor or entry.actor == actor


def _paged(found: list[AuditEntry], limit: int) -> Page[AuditEntry]:
    more = len(found) > limit
    items = found[:limit]
    return Page(items, None, 0, limit, items[-1].id if more and items else None)


class AuditSink:
    """Manifest pushes and manifest/tag deletes into the audit log (an EventSink)."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    async def emit(self, event_kind: str, **details: Any) -> None:
        if event_kind not in (MANIFEST_PUSH, MANIFEST_DELETE, TAG_DELETE):
            return
        caller: Caller = details["context"]
        repository = str(details.get("repository"))
        digest = details.get("digest")
        if event_kind == TAG_DELETE:
            action, target, extra = "delete", f"{repository}:{details.get('tag')}", {}
        elif event_kind == MANIFEST_DELETE:
            action, target, extra = "delete", f"{repository}@{digest}", {"digest": digest}
        else:
            tags = list(details.get("tags") or [])
            target = f"{repository}:{tags[0]}" if tags else f"{repository}@{digest}"
            extra = {"digest": digest, "tags": tags, "media_type": details.get("media_type")}
            action = "push"
        await self.audit.append(caller.actor, caller.remote_addr, action, target, extra)
