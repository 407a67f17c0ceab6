"""Conditional writes on an object store: Azure's ``If-None-Match``/``If-Match`` on its
ETags. (GCS has generation preconditions, but its emulator here ignores them, so they
are left unused rather than untested.) A store that implements them may still sit on a
server that ignores them (an emulator, a look-alike), which would let a lease built on
them be granted twice; so, as the S3 driver does (``storage_drivers/s3/conditional.py``),
each driver asks once with a probe object under the hidden ``~conditional-probe/``: a
second create, a replace and a delete at a wrong version must all be refused. Until
then, and wherever one is carried out, upload leases use plain writes and their settle
wait.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from storage_drivers.asked_once import AskedOnce
from storage_drivers.errors import ConditionFailed, StorageDriverError
from storage_drivers.object_store.store import ObjectStore

log = logging.getLogger("storage_drivers")

#: The hidden folder of probe objects (``~`` is outside the path grammar).
PROBE_DIR = "~conditional-probe"


class StoreConditions:
    """Whether ``store``'s server honours its conditional writes (asked once)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._question = AskedOnce(self._probe, cautious=False)

    async def supported(self) -> bool:
        if not self._store.offers_conditions:
            return False
        return await self._question.answer()

    async def _probe(self) -> bool:
        store = self._store
        where = f"/{PROBE_DIR}"
        name = f"{store.prefix('/')}{PROBE_DIR}/{uuid.uuid4().hex}"
        wrong = store.no_such_version
        attempts: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
            (store.put_if, (name, b"2", None)),
            (store.put_if, (name, b"3", wrong)),
            (store.remove_if, (name, wrong)),
        ]
        await store.call(where, store.put_if, name, b"1", None)
        try:
            for operation, args in attempts:
                try:
                    await store.call(where, operation, *args)
                except ConditionFailed:
                    continue
                log.info("%s: the server ignores conditional writes", store.driver)
                return False
        finally:
            with contextlib.suppress(StorageDriverError):
                await store.call(where, store.remove, name)
        return True
