"""Users (system admins only): the registry's htpasswd file, and who is a system admin
(the rules file's ``admins``). Passwords are bcrypt-hashed as ``htpasswd -B`` does;
the file is replaced atomically under its lock, so the token service and basic auth
pick the change up on their next request, and a hand edit still works.
"""

from __future__ import annotations

import asyncio

from pyregistry.auth.files import file_lock
from pyregistry.auth.htpasswd import Htpasswd, check_username, remove_user, set_user
from pyregistry.management.audit import AuditLog
from pyregistry.management.authority import Authority
from pyregistry.management.errors import Conflict, Invalid, NotFound, Unsupported
from pyregistry.management.principal import Principal
from pyregistry.management.projects import editing_rules
from pyregistry.management.views import UserSummary

MIN_PASSWORD = 8


class Users:
    def __init__(self, authority: Authority, users: Htpasswd | None, audit: AuditLog) -> None:
        self.authority = authority
        self.users = users
        self.audit = audit

    def _file(self) -> Htpasswd:
        if self.users is None:
            raise Unsupported("no users file is configured (auth.htpasswd or auth.token.issue)")
        return self.users

    def list(self, who: Principal) -> list[UserSummary]:
        self.authority.require_system_admin(who)
        rules = self.authority.rules()
        admins = rules.admins if rules is not None else set()
        everyone = rules is None
        return [UserSummary(u, everyone or u in admins) for u in sorted(self._file().users())]

    async def create(
        self, who: Principal, name: str, password: str, *, admin: bool = False
    ) -> UserSummary:
        self.authority.require_system_admin(who)
        users = self._file()
        try:
            check_username(name)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        _check_password(password)

        def write() -> None:
            with file_lock(users.path):
                if name in users.users():
                    raise Conflict(f"user {name!r} exists")
                set_user(users.path, name, password)

        await asyncio.to_thread(write)
        await self.audit.record(who, "user.create", name, {"admin": admin})
        if admin:
            await self.set_admin(who, name, True)
        return UserSummary(name, admin or self.authority.rules() is None)

    async def set_password(self, who: Principal, name: str, password: str) -> None:
        """A system admin sets anyone's password; a user may set their own."""
        if who.user != name:
            self.authority.require_system_admin(who)
        users = self._file()
        _check_password(password)

        def write() -> None:
            with file_lock(users.path):
                if name not in users.users():
                    raise NotFound(f"user {name!r} not found")
                set_user(users.path, name, password)

        await asyncio.to_thread(write)
        await self.audit.record(who, "user.password", name)

    async def delete(self, who: Principal, name: str) -> None:
        self.authority.require_system_admin(who)
        if who.user == name:
            raise Conflict("you cannot delete yourself")
        users = self._file()

        def write() -> bool:
            with file_lock(users.path):
                return remove_user(users.path, name)

        if not await asyncio.to_thread(write):
            raise NotFound(f"user {name!r} not found")
        await self.audit.record(who, "user.delete", name)

    async def set_admin(self, who: Principal, name: str, admin: bool) -> UserSummary:
        """Make ``name`` a system admin, or no longer one (needs a rules file)."""
        self.authority.require_system_admin(who)
        rules_file = self.authority.rules_file
        if rules_file is None:
            raise Unsupported("system admins are named in the rules file (auth.*.rules)")
        if not admin and who.user == name:
            raise Conflict("you cannot revoke your own admin role")

        def write() -> None:
            with editing_rules(rules_file.path) as rules:
                if admin:
                    rules.admins.add(name)
                else:
                    rules.admins.discard(name)

        await asyncio.to_thread(write)
        await self.audit.record(who, "user.admin", name, {"admin": admin})
        return UserSummary(name, admin)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password.encode()) > 72:
        raise Invalid("a password may have at most 72 bytes (bcrypt's limit)")
