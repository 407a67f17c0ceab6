"""Who logged in, for those who keep a record (the management API's audit log).

The token service and basic auth tell :class:`LoginObservers` of every password check
they make: the token service of each token asked for with a password, basic auth of
``docker login`` (``GET /v2/``, nothing else required) and of every failure. An
observer that fails is logged and never fails the login.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("pyregistry.auth")

#: ``observer(user, address, via, ok)``; ``via`` is ``token`` or ``basic``.
LoginObserver = Callable[[str, str, str, bool], Awaitable[None]]


class LoginObservers:
    def __init__(self) -> None:
        self._observers: list[LoginObserver] = []

    def add(self, observer: LoginObserver) -> None:
        self._observers.append(observer)

    async def notify(self, user: str, address: str, via: str, ok: bool) -> None:
        for observer in self._observers:
            try:
                await observer(user, address, via, ok)
            except Exception:
                log.exception("login observer failed")
