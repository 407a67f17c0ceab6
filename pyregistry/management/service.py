"""The management service layer as one object: :class:`Management` bundles the parts
that the JSON API (``pyregistry.management.http``) and the web UI both call.

Build it with :func:`build_management` from what ``create_app`` has: the core registry
(reads), the namespace the API uses (writes, so events and the audit log hear them),
and the access control setup (users, rules, token verifier).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.auth.files import WatchedFile
from pyregistry.auth.htpasswd import Htpasswd
from pyregistry.auth.rules import Rules
from pyregistry.auth.throttle import LoginThrottle
from pyregistry.index.service import IndexService
from pyregistry.management.audit import AuditLog
from pyregistry.management.authority import NOBODY, OPEN, RULES, USERS, Authority
from pyregistry.management.errors import Invalid
from pyregistry.management.facts import FactsCache
from pyregistry.management.images import Images
from pyregistry.management.logins import PasswordCheck
from pyregistry.management.principal import Principal
from pyregistry.management.projects import Projects
from pyregistry.management.repositories import Repositories
from pyregistry.management.usage import StorageUsage, UsageSource
from pyregistry.management.users import Users
from pyregistry.management.views import AuditEntry, Page
from pyregistry.storage.interfaces import Namespace
from pyregistry.storage.registry import Registry
from pyregistry.usage import gauges


@dataclass
class Management:
    authority: Authority
    repositories: Repositories
    images: Images
    projects: Projects
    users: Users
    usage: StorageUsage
    audit: AuditLog
    #: The users file (None: no users configured).
    user_file: Htpasswd | None
    #: ``await passwords.login(user, password, address)`` -> Principal (throttled, audited).
    passwords: PasswordCheck

    async def audit_page(
        self,
        who: Principal,
        *,
        before: str | None = None,
        limit: int = 50,
        action: str | None = None,
        actor: str | None = None,
    ) -> Page[AuditEntry]:
        """The audit log, newest first (system admins only)."""
        self.authority.require_system_admin(who)
        if not 1 <= limit <= 500:
            raise Invalid("limit must be between 1 and 500")
        try:
            return await self.audit.page(before=before, limit=limit, action=action, actor=actor)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc

    def whoami(self, who: Principal) -> dict[str, object]:
        """The caller and their powers (for a UI's menu)."""
        return {
            "user": who.user,
            "system_admin": self.authority.is_system_admin(who),
            "projects": self.authority.visible_projects(who),
        }


def build_management(
    registry: Registry,
    writer: Namespace,
    *,
    users: Htpasswd | None = None,
    rules: WatchedFile[Rules] | None = None,
    auth_configured: bool = True,
    usage: UsageSource = gauges.latest,
    audit: AuditLog | None = None,
    throttle: LoginThrottle | None = None,
) -> Management:
    """The service layer over ``registry`` (reads) and ``writer`` (deletes).

    Without ``auth`` (``auth_configured`` false) everyone may do everything, as on the
    registry; with auth and a users file but no rules file, any of its users may; with
    neither file, nobody may (see ``authority``)."""
    if not auth_configured:
        mode = OPEN
    else:
        mode = RULES if rules is not None else USERS if users is not None else NOBODY
    authority = Authority(mode, rules)
    audit = audit or AuditLog(registry.driver)
    facts = FactsCache()
    index = registry.index if isinstance(registry.index, IndexService) else None
    return Management(
        authority=authority,
        repositories=Repositories(registry, index, authority, facts),
        images=Images(registry, writer, authority, facts),
        projects=Projects(authority, audit),
        users=Users(authority, users, audit),
        usage=StorageUsage(authority, usage),
        audit=audit,
        user_file=users,
        passwords=PasswordCheck(users, audit, throttle),
    )
