"""Local changes into the push queues: an :class:`~pyregistry.events.EventSink` beside
the webhook notifier, fed by the namespace wrapper for every write whoever made it.

A manifest push, manifest delete or tag delete that a push policy wants is appended to
that policy's durable queue before the request is answered. A change whose origin chain
already holds the policy's target came from there (or passed through it) and is not
queued: that, with the copier's "already there" check, keeps any topology loop-free.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pyregistry.events import MANIFEST_DELETE, MANIFEST_PUSH, TAG_DELETE, Caller, InternalCaller
from pyregistry.replication.origin import chain_of_caller, extended
from pyregistry.replication.policy import Policy
from pyregistry.replication.queue import (
    DELETE_MANIFEST,
    DELETE_TAG,
    PUSH,
    Change,
    ChangeQueue,
)

log = logging.getLogger("pyregistry.replication")


class ReplicationSink:
    def __init__(
        self, own_id: str, policies: Sequence[tuple[Policy, ChangeQueue]], wake: Any = None
    ) -> None:
        self.own_id = own_id
        self.policies = [(p, q) for p, q in policies if p.on_event]
        self.wake = wake
        #: changes not queued because they came from the policy's target
        self.loops_cut = 0

    async def emit(self, event_kind: str, **details: Any) -> None:
        if event_kind not in (MANIFEST_PUSH, MANIFEST_DELETE, TAG_DELETE) or not self.policies:
            return
        who: Caller = details.get("context") or InternalCaller()
        chain = chain_of_caller(who)
        repository = str(details["repository"])
        for policy, queue in self.policies:
            if policy.target.registry_id in chain:
                self.loops_cut += 1
                continue
            change = self._change(policy, event_kind, repository, details, chain)
            if change is not None:
                await queue.append(change)
                if self.wake is not None:
                    self.wake(policy.name)

    def _change(
        self,
        policy: Policy,
        kind: str,
        repository: str,
        details: dict[str, Any],
        chain: list[str],
    ) -> Change | None:
        if not policy.wants_repository(repository):
            return None
        origin = tuple(extended(chain, self.own_id))
        digest = str(details.get("digest") or "")
        if kind == MANIFEST_PUSH:
            pushed = [str(t) for t in details.get("tags") or []]
            tags = tuple(t for t in pushed if policy.wants_tag(t))
            if pushed and not tags:
                return None
            return Change(PUSH, repository, digest, tags, origin)
        if not policy.settings.deletes:
            return None
        if kind == MANIFEST_DELETE:
            return Change(DELETE_MANIFEST, repository, digest, (), origin)
        tag = str(details.get("tag") or "")
        if not policy.wants_tag(tag):
            return None
        return Change(DELETE_TAG, repository, "", (tag,), origin)
