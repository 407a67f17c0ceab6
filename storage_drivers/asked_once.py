"""A yes-or-no question a driver asks its server once (what it honours, how it lists).

Servers differ where the S3 API leaves room (conditional writes, folders of a
directory-backed store), and the answer decides how the driver writes or deletes from
then on. So the question is asked the first time it matters, not at start-up (where the
server may still be coming up), concurrent first callers share it, and the answer is
kept once the server gave one. A question that fails (the server unreachable) gets the
cautious answer for now and is asked again later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class AskedOnce:
    """``ask()`` answered once; ``cautious`` while it could not be."""

    def __init__(self, ask: Callable[[], Awaitable[bool]], *, cautious: bool) -> None:
        self._ask = ask
        self._cautious = cautious
        #: The server's answer, once it gave one (None: not asked, or the question failed).
        self._known: bool | None = None
        self._asking: asyncio.Future[bool] | None = None

    @property
    def known(self) -> bool | None:
        """The server's answer, if it gave one yet."""
        return self._known

    async def answer(self) -> bool:
        if self._known is not None:
            return self._known
        loop = asyncio.get_running_loop()
        if self._asking is None or self._asking.get_loop() is not loop:
            self._asking = asyncio.ensure_future(self._ask())
        asking = self._asking
        try:
            self._known = await asyncio.shield(asking)
        except Exception:  # noqa: BLE001 - no answer: the cautious one this time
            if self._asking is asking:
                self._asking = None
            return self._cautious
        return self._known
