"""A lease held in this process's memory: for storage no other process can see.

The in-memory driver's content lives in one process, so every writer of an upload session
is in that process too, and a table in memory decides who holds what, exactly and with no
round trip. A storage lease would cost its settle time (a quarter second) on every chunk
there, for no added safety. Holdings are kept per driver object, so two registries over
one in-memory driver (two "instances" in one process) still exclude each other.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from pyregistry.tasks.lease import Lease, new_token


@dataclass
class LeaseTable:
    """Who holds each lease of one storage, and how often each was taken (the fence)."""

    holders: dict[str, str] = field(default_factory=dict)
    fences: dict[str, int] = field(default_factory=dict)


_TABLES: weakref.WeakKeyDictionary[object, LeaseTable] = weakref.WeakKeyDictionary()


def table_for(storage: object) -> LeaseTable:
    """The lease table of ``storage`` (a driver object), made on first use."""
    table = _TABLES.get(storage)
    if table is None:
        table = _TABLES[storage] = LeaseTable()
    return table


class LocalLease(Lease):
    """Lease ``name`` in ``table``; no expiry: its holder's death ends the storage too."""

    ttl = 0.0

    def __init__(self, name: str, table: LeaseTable) -> None:
        super().__init__(name)
        self.table = table
        self._token = new_token()

    @property
    def held(self) -> bool:
        return self.table.holders.get(self.name) == self._token

    async def acquire(self) -> bool:
        holder = self.table.holders.get(self.name)
        if holder is not None:
            return holder == self._token
        self.table.holders[self.name] = self._token
        self.fence = self.table.fences.get(self.name, 0) + 1
        self.table.fences[self.name] = self.fence
        return True

    async def renew(self) -> bool:
        return self.held

    async def release(self) -> None:
        if self.held:
            del self.table.holders[self.name]
