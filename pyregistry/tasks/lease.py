"""A lease: the exclusive right to do one thing, held by one process at a time.

Workers of one ``pyregistry serve`` and instances on shared storage must not run one job
at once, nor write one upload session at once. A lease is taken (never waited for),
renewed while the work runs and released after it; a holder that dies without releasing
loses it when it expires, so the work moves on. ``fence`` grows with every new holding
(where the backend can count), so work stamped with it can be told apart afterwards.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

log = logging.getLogger("pyregistry.tasks")


def new_token() -> str:
    """A value no other holding will ever have."""
    return secrets.token_hex(16)


class Lease(abc.ABC):
    """One named lease as seen by one holder; not shared between tasks."""

    #: Seconds a holding lasts without renewal (0: until release or process death).
    ttl: float = 0.0

    def __init__(self, name: str) -> None:
        self.name = name
        self.fence = 0

    @property
    @abc.abstractmethod
    def held(self) -> bool:
        """Whether this holder believes it holds the lease."""

    @abc.abstractmethod
    async def acquire(self) -> bool:
        """Take the lease if it is free (or expired); never waits for a holder."""

    @abc.abstractmethod
    async def renew(self) -> bool:
        """Extend the holding; False (and no longer held) when it was lost."""

    @abc.abstractmethod
    async def release(self) -> None:
        """Give the lease up, if still held; a lost lease is left to its new holder."""

    def record_removed(self) -> None:
        """The lease's record was deleted with what it guarded (an upload session's
        folder): stop holding without a release, which would find nothing. A lease kept
        elsewhere (Redis, an flock) ignores this and is released as usual."""
        return None

    @property
    def renew_interval(self) -> float:
        """How often a holder renews: a third of the expiry, so two renewals may fail."""
        return self.ttl / 3 if self.ttl > 0 else 0.0


async def keep_renewing(lease: Lease, on_lost: asyncio.Task[object] | None = None) -> None:
    """Renew ``lease`` every ``renew_interval`` until cancelled; when a renewal finds it
    taken, cancel ``on_lost`` (the work it guarded) and return."""
    if lease.renew_interval <= 0:
        return
    while True:
        await asyncio.sleep(lease.renew_interval)
        try:
            renewed = await lease.renew()
        except Exception as exc:  # noqa: BLE001 - a backend hiccup: the next renewal may still succeed
            log.warning(f"could not renew lease {lease.name}: {exc}")
            continue
        if not renewed:
            log.warning(f"lease {lease.name} was lost while held")
            if on_lost is not None:
                on_lost.cancel()
            return


#: Cleanups under way, kept referenced until done (the loop holds tasks weakly).
_cleanups: set[asyncio.Task[None]] = set()


async def _stop_and_release(renewer: asyncio.Task[None] | None, lease: Lease) -> None:
    if renewer is not None:
        renewer.cancel()
        await asyncio.wait([renewer])
    try:
        await lease.release()
    except Exception as exc:  # noqa: BLE001 - it expires on its own
        log.warning(f"could not release lease {lease.name}: {exc}")


@contextlib.asynccontextmanager
async def renewing(lease: Lease) -> AsyncIterator[Lease]:
    """Keep an acquired ``lease`` renewed for the block; release it afterwards.

    A lease that never expires (an flock: one per chunk of every upload) gets no renewing
    task, and its release, which never waits, runs in place. Any other release runs as a
    task of its own, shielded: a caller cancelled while leaving the block (anyio cancels
    at every await of a cancelled scope, as Starlette's request scope does when a client
    hangs up) still gives the lease up at once instead of leaving the next holder to wait
    for its expiry; the cancellation then reaches the caller.
    """
    if lease.renew_interval <= 0:
        try:
            yield lease
        finally:
            await _stop_and_release(None, lease)
        return
    renewer = asyncio.create_task(keep_renewing(lease), name=f"lease-{lease.name}")
    try:
        yield lease
    finally:
        cleanup = asyncio.create_task(_stop_and_release(renewer, lease))
        _cleanups.add(cleanup)
        cleanup.add_done_callback(_cleanups.discard)
        await asyncio.shield(cleanup)
