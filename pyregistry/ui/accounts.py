"""Who may log in to the UI: the registry's own users (``auth.token.issue.users`` or
``auth.htpasswd.path``), checked by the service layer's :class:`PasswordCheck` under the
registry's login throttle and recorded in the audit log, so a password that works for
``docker login`` works here and a guessing browser is locked out like a guessing client.

A session remembers the user and a fingerprint of their password hash (:meth:`binding`,
as the token service ties refresh tokens to it): a changed password or a removed user
ends every session of theirs on its next request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pyregistry.auth.htpasswd import Htpasswd
from pyregistry.management import Management, Principal
from pyregistry.management.logins import PasswordCheck


@dataclass
class Accounts:
    users: Htpasswd
    passwords: PasswordCheck

    async def login(self, user: str, password: str, address: str) -> Principal:
        """The principal once the password checks out; the service layer's
        ``Unauthenticated`` (wrong) or ``TooManyAttempts`` (locked out) otherwise."""
        return await self.passwords.login(user, password, address, via="session")

    def binding(self, user: str) -> str | None:
        """A fingerprint of the user's current password hash (None: no such user)."""
        hashed = self.users.users().get(user)
        if hashed is None:
            return None
        return hashlib.sha256(f"ui-session:{user}:{hashed}".encode()).hexdigest()[:32]


def accounts_of(management: Management) -> Accounts | None:
    """None when the registry has no users file (no auth, ``auth.silly``, or tokens signed
    elsewhere): nobody logs in to the UI then."""
    if management.user_file is None:
        return None
    return Accounts(management.user_file, management.passwords)
