"""Where a change came from: the origin chain that keeps replication loop-free.

Every write replication makes at another registry carries, in its ``User-Agent``, the
ids of the registries the change has passed through (``pyregistry-replication/1 (via
hq,province)``). The receiving pyregistry sees that header as the caller's
``user_agent`` of the storage events (:mod:`pyregistry.events`), so its own push
policies know the chain without any change to the API, and never send the change to a
target whose id is in it. A pull writes locally as a caller whose chain names the
remote it pulled from, so a push policy back to that remote skips it too.

Why ``User-Agent``: it is the one request header every registry already records for
every event, so the mark needs no new API; a registry that is not pyregistry ignores it,
and there the second guard applies: nothing is sent that the target already has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pyregistry.events import Caller, InternalCaller

PRODUCT = "pyregistry-replication/1"
_CHAIN = re.compile(re.escape(PRODUCT) + r" \(via ([^)]*)\)")


def user_agent(chain: Sequence[str]) -> str:
    """The ``User-Agent`` of a write that has passed through ``chain``."""
    return f"{PRODUCT} (via {','.join(chain)})" if chain else PRODUCT


def chain_of(agent: str | None) -> list[str]:
    """The origin chain a ``User-Agent`` carries (empty for an ordinary client)."""
    match = _CHAIN.search(agent or "")
    if match is None:
        return []
    return [name for name in match.group(1).split(",") if name]


def chain_of_caller(who: Caller) -> list[str]:
    return chain_of(who.user_agent)


def extended(chain: Sequence[str], own_id: str) -> list[str]:
    """``chain`` with this registry appended (once), as it goes on to the next one."""
    return [*chain, own_id] if own_id and own_id not in chain else list(chain)


def replicating_caller(chain: Sequence[str]) -> InternalCaller:
    """The caller local writes of a pull act as: its chain names where they came from."""
    return InternalCaller(actor="replication", user_agent=user_agent(chain))
