"""What a principal may do, decided from the registry's own access control, so the
management API and the UI enforce exactly what the token service grants.

Four modes, from the ``auth`` configuration:

* ``open`` (no ``auth``): the registry lets anyone do anything, and so does this;
* ``users`` (htpasswd or the built-in token service, without a rules file): any
  authenticated user may do everything (as the registry grants them), anonymous callers
  nothing;
* ``nobody`` (tokens of another issuer, or ``silly``, and no rules file): who is an
  admin cannot be told, so nobody may do anything here (``/v2/`` is unaffected);
* ``rules`` (a rules file, ``pyregistry.auth.rules``): system admins everything; a
  project's members by role (guest pulls, developer pushes, maintainer deletes, admin
  also manages members); anyone pulls a public project. A repository of a project the
  rules do not name is visible to system admins only.

Every ``require_*`` raises :class:`Unauthenticated` for an anonymous caller and
:class:`Forbidden` for a user, so a client knows whether logging in could help.
"""

from __future__ import annotations

from pyregistry.auth.access import ANY_ACTION, DELETE, PULL, PUSH, REPOSITORY
from pyregistry.auth.files import WatchedFile
from pyregistry.auth.rules import Rules
from pyregistry.management.errors import Forbidden, ManagementError, Unauthenticated
from pyregistry.management.principal import Principal

OPEN, USERS, RULES, NOBODY = "open", "users", "rules", "nobody"


class Authority:
    def __init__(self, mode: str, rules: WatchedFile[Rules] | None = None) -> None:
        if mode == RULES and rules is None:
            raise ValueError("the rules mode needs a rules file")
        self.mode = mode
        self._rules = rules

    @property
    def rules_file(self) -> WatchedFile[Rules] | None:
        return self._rules

    def rules(self) -> Rules | None:
        """The rules as the file says now (re-read after a hand edit)."""
        return self._rules.get() if self._rules is not None else None

    # -- questions ----------------------------------------------------------------------

    def is_system_admin(self, who: Principal) -> bool:
        if self.mode == OPEN:
            return True
        if who.user is None or self.mode == NOBODY:
            return False
        rules = self.rules()
        return rules is None or who.user in rules.admins

    def role(self, who: Principal, project: str) -> str | None:
        """``admin``/``maintainer``/``developer``/``guest``, ``public`` (may pull, no role)
        or None (may not see it)."""
        if self.is_system_admin(who):
            return "admin"
        rules = self.rules()
        if rules is None:
            return None
        found = rules.projects.get(project)
        if found is None:
            return None
        if who.user is not None and who.user in found.members:
            return found.members[who.user]
        return "public" if found.public else None

    def visible_projects(self, who: Principal) -> list[str] | None:
        """The projects whose repositories ``who`` may list (None: every repository)."""
        if self.is_system_admin(who):
            return None
        rules = self.rules()
        if rules is None:
            return []
        return sorted(name for name in rules.projects if self.role(who, name) is not None)

    def may(self, who: Principal, repository: str, action: str) -> bool:
        if self.is_system_admin(who):
            return True
        rules = self.rules()
        if rules is None:
            return False
        allowed = rules.allowed(who.user, REPOSITORY, repository)
        return ANY_ACTION in allowed or action in allowed

    def actions(self, who: Principal, repository: str) -> list[str]:
        """What ``who`` may do to a repository, for a UI to show only usable buttons."""
        return [a for a in (PULL, PUSH, DELETE) if self.may(who, repository, a)]

    # -- refusals -------------------------------------------------------------------------

    def _refuse(self, who: Principal, message: str) -> ManagementError:
        if who.user is None:
            return Unauthenticated(f"{message}: log in first")
        return Forbidden(f"{message}: user {who.user!r} lacks the role")

    def require_pull(self, who: Principal, repository: str) -> None:
        if not self.may(who, repository, PULL):
            raise self._refuse(who, f"repository {repository!r} is not visible")

    def require_delete(self, who: Principal, repository: str) -> None:
        self.require_pull(who, repository)
        if not self.may(who, repository, DELETE):
            raise self._refuse(who, f"deleting in {repository!r} needs maintainer or admin")

    def require_project_visible(self, who: Principal, project: str) -> None:
        if self.role(who, project) is None:
            raise self._refuse(who, f"project {project!r} is not visible")

    def require_project_admin(self, who: Principal, project: str) -> None:
        self.require_project_visible(who, project)
        if self.role(who, project) != "admin":
            raise self._refuse(who, f"managing project {project!r} needs its admin role")

    def require_system_admin(self, who: Principal) -> None:
        if not self.is_system_admin(who):
            raise self._refuse(who, "only system admins may do this")
