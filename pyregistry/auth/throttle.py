"""Login throttling: repeated password failures buy a short, growing lock-out.

Failures are counted per (user, client address) and per client address. Once a key has
more than ``attempts`` failures in a row, each further failure locks it for ``lockout``,
doubling up to ``maxlockout``; a locked key is answered 429 ``TOOMANYREQUESTS`` with
``Retry-After`` without checking the password. A success from an address clears both
keys. So a guesser elsewhere cannot lock a real user out (their own (user, address) key
stays clean), and a lock-out never lasts longer than ``maxlockout``. The address key
allows four times as many failures, for addresses that many users share (NAT).

Whether the user exists plays no part: keys are the name as sent, and an unknown user
costs the same bcrypt check as a wrong password.

Without Redis the counts live in each process: with ``--workers N`` a guesser gets up to N
times the attempts before being slowed, and a lock-out holds in the worker that counted
it. With a ``redis`` section, :mod:`pyregistry.auth.throttle_redis` shares them between
workers and instances.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pyregistry.config.errors import ConfigError
from pyregistry.config.sections.auth import ThrottleSettings

#: Keys kept at most (oldest forgotten first), so a spray of names cannot grow memory.
MAX_KEYS = 10000
#: How many more failures an address key allows than a (user, address) key.
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class ThrottleOptions:
    """``loginthrottle`` under ``auth.htpasswd`` or ``auth.token.issue``."""

    enabled: bool = True
    attempts: int = 5
    lockout_seconds: float = 1.0
    maxlockout_seconds: float = 60.0


def parse_throttle(section: ThrottleSettings, key: str, source: str | None) -> ThrottleOptions:
    """The typed ``loginthrottle`` settings -> options; ConfigError for values out of range."""
    if section.attempts < 1:
        raise ConfigError("must be a positive integer", key=f"{key}.attempts", source=source)
    if section.lockout <= 0 or section.maxlockout < section.lockout:
        raise ConfigError(
            "lockout must be positive and maxlockout at least lockout", key=key, source=source
        )
    return ThrottleOptions(
        enabled=not section.disabled,
        attempts=section.attempts,
        lockout_seconds=section.lockout,
        maxlockout_seconds=section.maxlockout,
    )


class CountStore(Protocol):
    """Where failure counts and lock-outs live: this process, or a shared Redis."""

    async def add_failure(self, key: str, window: float) -> int: ...
    async def lock(self, key: str, seconds: float) -> None: ...
    async def locked_for(self, key: str) -> float: ...
    async def clear(self, key: str) -> None: ...
    async def standing(self, keys: Sequence[str]) -> tuple[float, bool]:
        """The longest :meth:`locked_for` of ``keys``, and whether any of them holds
        failures or a lock-out to clear (one round trip to a shared store)."""
        ...

    async def clear_all(self, keys: Sequence[str]) -> None:
        """:meth:`clear` each of ``keys`` (one round trip to a shared store)."""
        ...


@dataclass(frozen=True)
class Standing:
    """What :meth:`LoginThrottle.check` found: seconds to wait (0: none), and whether
    failures or a lock-out are counted (a success has something to clear)."""

    wait: int
    counted: bool


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class MemoryCounts:
    """Counts in this process, at most :data:`MAX_KEYS` of them (oldest forgotten)."""

    def __init__(self) -> None:
        self._records: OrderedDict[str, _Record] = OrderedDict()

    async def add_failure(self, key: str, window: float) -> int:
        now = time.monotonic()
        record = self._records.pop(key, None) or _Record()
        if now - record.last > window:
            record = _Record(locked_until=record.locked_until)  # old failures forgotten
        record.failures += 1
        record.last = now
        self._records[key] = record
        while len(self._records) > MAX_KEYS:
            self._records.popitem(last=False)
        return record.failures

    async def lock(self, key: str, seconds: float) -> None:
        record = self._records.setdefault(key, _Record(last=time.monotonic()))
        record.locked_until = time.monotonic() + seconds

    async def locked_for(self, key: str) -> float:
        record = self._records.get(key)
        return max(0.0, record.locked_until - time.monotonic()) if record else 0.0

    async def clear(self, key: str) -> None:
        self._records.pop(key, None)

    async def standing(self, keys: Sequence[str]) -> tuple[float, bool]:
        wait = max([await self.locked_for(key) for key in keys], default=0.0)
        return wait, any(key in self._records for key in keys)

    async def clear_all(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._records.pop(key, None)


class LoginThrottle:
    """Decides lock-outs from the failure counts in ``store`` (this process by default)."""

    def __init__(self, options: ThrottleOptions | None = None, store: CountStore | None = None):
        self.options = options or ThrottleOptions()
        self.store: CountStore = store or MemoryCounts()

    def _keys(self, user: str, address: str) -> list[tuple[str, int]]:
        attempts = self.options.attempts
        return [
            (f"user:{address}:{user}", attempts),
            (f"address:{address}", attempts * ADDRESS_FACTOR),
        ]

    async def check(self, user: str, address: str) -> Standing:
        """Whether ``user`` may try now from ``address``, before the password is checked."""
        if not self.options.enabled:
            return Standing(0, counted=False)
        wait, counted = await self.store.standing([key for key, _ in self._keys(user, address)])
        return Standing(math.ceil(wait), counted)

    async def retry_after(self, user: str, address: str) -> int:
        """Seconds until ``user`` may try again from ``address`` (0: now)."""
        return (await self.check(user, address)).wait

    async def failed(self, user: str, address: str) -> int:
        """Count a failure; the lock-out it started in seconds (0: none)."""
        if not self.options.enabled:
            return 0
        longest = 0.0
        window = self.options.maxlockout_seconds * 10
        for key, allowed in self._keys(user, address):
            over = await self.store.add_failure(key, window) - allowed
            if over > 0:
                lockout = min(
                    self.options.maxlockout_seconds,
                    self.options.lockout_seconds * 2 ** min(over - 1, 30),
                )
                await self.store.lock(key, lockout)
                longest = max(longest, lockout)
        return math.ceil(longest)

    async def succeeded(self, user: str, address: str, standing: Standing | None = None) -> None:
        """Clear the failures counted against ``user`` and ``address``. Given the
        ``standing`` :meth:`check` found before, nothing is cleared when it had nothing
        to clear (failures counted since by another process wait for the next success):
        a shared store is then asked once per request, not twice."""
        if standing is not None and not standing.counted:
            return
        if self.options.enabled:
            await self.store.clear_all([key for key, _ in self._keys(user, address)])
