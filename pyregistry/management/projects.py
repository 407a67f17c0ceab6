"""Projects: public or private, members and their roles, kept in the registry's rules
file (``pyregistry.auth.rules``), the one the token service reads.

Each change locks the file, reads what is there now (a hand edit since the last read
included), changes it, and replaces it atomically, so readers see the old or the new
file, never half of one, and edits by the CLI (``pyregistry auth``) never interleave.
A change is recorded in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator

from pyregistry.auth.files import file_lock, write_atomically
from pyregistry.auth.rules import ROLES, Project, Rules, check_project_name, parse_rules
from pyregistry.management.audit import AuditLog
from pyregistry.management.authority import Authority
from pyregistry.management.errors import Conflict, Invalid, NotFound, Unsupported
from pyregistry.management.principal import Principal
from pyregistry.management.views import Member, ProjectSummary


@contextlib.contextmanager
def editing_rules(path: str) -> Iterator[Rules]:
    """The rules as the file holds them now; written back when the block succeeds."""
    with file_lock(path):
        try:
            with open(path, "rb") as handle:
                rules = parse_rules(handle.read())
        except FileNotFoundError:
            rules = Rules()
        except ValueError as exc:
            raise Conflict(f"the rules file {path} is invalid, fix it first: {exc}") from exc
        yield rules
        write_atomically(path, rules.dump(), 0o644 if not os.path.exists(path) else None)


def summary(project: Project, role: str | None) -> ProjectSummary:
    members = [Member(u, r) for u, r in sorted(project.members.items())]
    return ProjectSummary(project.name, project.public, members, role)


class Projects:
    def __init__(self, authority: Authority, audit: AuditLog) -> None:
        self.authority = authority
        self.audit = audit

    def _path(self) -> str:
        rules = self.authority.rules_file
        if rules is None:
            raise Unsupported("projects need a rules file (auth.*.rules)")
        return rules.path

    def list(self, who: Principal) -> list[ProjectSummary]:
        """The projects ``who`` may see (members shown to everyone who sees a project)."""
        rules = self.authority.rules() or Rules()
        return [
            summary(p, self.authority.role(who, name))
            for name, p in sorted(rules.projects.items())
            if self.authority.role(who, name) is not None
        ]

    def get(self, who: Principal, name: str) -> ProjectSummary:
        rules = self.authority.rules() or Rules()
        self.authority.require_project_visible(who, name)
        found = rules.projects.get(name)
        if found is None:
            raise NotFound(f"project {name!r} not found")
        return summary(found, self.authority.role(who, name))

    async def _edit(self, change: Callable[[Rules], None]) -> None:
        path = self._path()

        def run() -> None:
            with editing_rules(path) as rules:
                change(rules)

        await asyncio.to_thread(run)

    async def create(self, who: Principal, name: str, *, public: bool = False) -> ProjectSummary:
        """A new, empty project (system admins only)."""
        self.authority.require_system_admin(who)
        try:
            check_project_name(name)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc

        def change(rules: Rules) -> None:
            if name in rules.projects:
                raise Conflict(f"project {name!r} exists")
            rules.projects[name] = Project(name, public)

        await self._edit(change)
        await self.audit.record(who, "project.create", name, {"public": public})
        return self.get(who, name)

    async def delete(self, who: Principal, name: str) -> None:
        """Forget a project's settings (its repositories stay; system admins only)."""
        self.authority.require_system_admin(who)

        def change(rules: Rules) -> None:
            if rules.projects.pop(name, None) is None:
                raise NotFound(f"project {name!r} not found")

        await self._edit(change)
        await self.audit.record(who, "project.delete", name)

    async def set_public(self, who: Principal, name: str, public: bool) -> ProjectSummary:
        self.authority.require_project_admin(who, name)

        def change(rules: Rules) -> None:
            self._existing(rules, name).public = public

        await self._edit(change)
        await self.audit.record(who, "project.visibility", name, {"public": public})
        return self.get(who, name)

    async def set_member(self, who: Principal, name: str, user: str, role: str) -> ProjectSummary:
        """Add a member or change their role (project admins only)."""
        self.authority.require_project_admin(who, name)
        if role not in ROLES:
            raise Invalid(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        if not user or ":" in user or any(c.isspace() for c in user):
            raise Invalid(f"invalid user name {user!r}")

        def change(rules: Rules) -> None:
            self._existing(rules, name).members[user] = role

        await self._edit(change)
        await self.audit.record(who, "member.set", name, {"user": user, "role": role})
        return self.get(who, name)

    async def remove_member(self, who: Principal, name: str, user: str) -> ProjectSummary:
        self.authority.require_project_admin(who, name)

        def change(rules: Rules) -> None:
            if self._existing(rules, name).members.pop(user, None) is None:
                raise NotFound(f"{user!r} is not a member of {name!r}")

        await self._edit(change)
        await self.audit.record(who, "member.remove", name, {"user": user})
        return self.get(who, name)

    @staticmethod
    def _existing(rules: Rules, name: str) -> Project:
        found = rules.projects.get(name)
        if found is None:
            raise NotFound(f"project {name!r} not found")
        return found
