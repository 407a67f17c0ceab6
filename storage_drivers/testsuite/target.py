"""What a driver author hands the suite: how to build a throwaway driver, and what it can do.

The suite never constructs a driver itself, because only the author knows what a fresh,
empty, isolated store is for their backend (a new temporary directory, bucket prefix,
container, ...). Drivers the suite builds are closed by the suite at the end of each test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage_drivers.base import StorageDriver


@dataclass(frozen=True)
class DriverTarget:
    """How the suite gets drivers for one backend.

    ``make``: a new driver on fresh, empty storage that no other test sees. Called once or
    more per test; must not block on the network for long (no I/O is needed here).

    ``reopen``: a second driver instance on the *same* storage as the given one, as
    another process sharing the store would have. The suite checks that an upload
    closed on one instance resumes on the other (the contract's cross-process resume).
    ``None`` for a store that lives inside one instance (``inmemory``): the suite then
    resumes on the same instance.

    ``content_in_process``: committed content lives in the test process's memory, so the
    big-blob test allows the blob's size on top of its memory bound.

    ``big_blob_mib``: the big-blob test's size. A store served by a slow emulator (one that
    copies a whole object for every ranged read) may ask for less; the suite keeps it at
    least twice its memory bound, so a driver that buffers a blob still fails.
    """

    make: Callable[[], StorageDriver]
    reopen: Callable[[StorageDriver], StorageDriver] | None = None
    content_in_process: bool = False
    big_blob_mib: int = 256


class Drivers:
    """The drivers one test got from a :class:`DriverTarget`; ``close`` closes them all."""

    def __init__(self, target: DriverTarget) -> None:
        self.target = target
        self._made: list[StorageDriver] = []

    def make(self) -> StorageDriver:
        """A new driver on fresh, empty storage."""
        return self._keep(self.target.make())

    def reopen(self, driver: StorageDriver) -> StorageDriver:
        """Another instance on ``driver``'s storage (``driver`` itself when not shareable)."""
        if self.target.reopen is None:
            return driver
        return self._keep(self.target.reopen(driver))

    def _keep(self, driver: StorageDriver) -> StorageDriver:
        if not isinstance(driver, StorageDriver):
            raise TypeError(f"the driver target built {driver!r}, not a StorageDriver")
        self._made.append(driver)
        return driver

    async def close(self) -> None:
        for driver in reversed(self._made):
            await driver.close()
        self._made.clear()
