"""Checking a password for a front end (the API's Basic auth, the web UI's login form)
the way the token service does: against the registry's users file, under the same login
throttle (brief lock-outs after repeated failures), with logins in the audit log."""

from __future__ import annotations

import asyncio

from pyregistry.auth.htpasswd import Htpasswd
from pyregistry.auth.throttle import LoginThrottle
from pyregistry.management.audit import AuditLog
from pyregistry.management.errors import ManagementError, Unauthenticated
from pyregistry.management.principal import Principal


class TooManyAttempts(ManagementError, code="TOOMANYREQUESTS", status=429):
    """Locked out for a while after repeated failures; ``detail["retry"]`` seconds."""


class PasswordCheck:
    def __init__(
        self, users: Htpasswd | None, audit: AuditLog, throttle: LoginThrottle | None = None
    ) -> None:
        self.users = users
        self.audit = audit
        self.throttle = throttle or LoginThrottle()

    async def login(
        self,
        user: str,
        password: str,
        address: str | None,
        *,
        via: str = "session",
        user_agent: str | None = None,
        record_success: bool = True,
    ) -> Principal:
        """The principal ``user`` once the password checks out; failures are always
        recorded, successes when ``record_success`` (a UI login: yes; every API call
        with Basic credentials: no)."""
        if self.users is None:
            raise Unauthenticated("no users are configured (auth.htpasswd or auth.token.issue)")
        where = address or "unknown"
        wait = await self.throttle.retry_after(user, where)
        if wait:
            raise TooManyAttempts(f"too many failed logins, retry in {wait}s", {"retry": wait})
        if not await asyncio.to_thread(self.users.verify, user, password):
            lockout = await self.throttle.failed(user, where)
            await self.audit.record_login(user, address, via, False)
            if lockout:
                raise TooManyAttempts(
                    f"too many failed logins, retry in {lockout}s", {"retry": lockout}
                )
            raise Unauthenticated("wrong user name or password")
        await self.throttle.succeeded(user, where)
        if record_success:
            await self.audit.record_login(user, address, via, True)
        return Principal(user, address, via, user_agent)
