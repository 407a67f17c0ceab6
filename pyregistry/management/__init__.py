"""The management service layer: what the JSON management API (``/api/v1``) and the web
UI both call to browse and administer the registry. Plain async classes, no HTTP: a
front end authenticates the caller, builds a :class:`Principal`, calls the service, and
maps a :class:`ManagementError` to a status (``error.status``) and a JSON body
(``error.as_dict()``). Permission checks live here, in every call (``authority``).

Public names (stable; the web UI relies on them):

* :func:`build_management` -> :class:`Management`, with parts
  ``repositories`` (:class:`Repositories`: ``list(who, search=, project=, sort=,
  descending=, offset=, limit=)``, ``get(who, name)``, ``tags(who, name, offset=, limit=)``),
  ``images`` (:class:`Images`: ``manifest(who, name, reference)``,
  ``delete_tag(who, name, tag)``, ``delete_manifest(who, name, reference)``),
  ``projects`` (:class:`Projects`: ``list``, ``get``, ``create``, ``delete``,
  ``set_public``, ``set_member``, ``remove_member``),
  ``users`` (:class:`Users`: ``list``, ``create``, ``set_password``, ``delete``,
  ``set_admin``), ``usage`` (:class:`StorageUsage`: ``report(who)``),
  ``audit`` (:class:`AuditLog`: ``record``, ``record_login``, ``page``), and
  ``Management.audit_page(who, before=, limit=, action=, actor=)``,
  ``Management.whoami(who)``, ``Management.passwords`` (:class:`PasswordCheck`:
  ``await login(user, password, address, via="session")`` -> :class:`Principal`, under
  the registry's login throttle, logins and failures in the audit log; raises
  :class:`Unauthenticated` or :class:`TooManyAttempts`); ``Management.authority``
  (:class:`Authority`: ``is_system_admin``, ``role``, ``visible_projects``, ``may``, ``actions``).
* :class:`Principal` (``user``, ``address``, ``via``), ``Principal.anonymous()``.
* Views (``views``): :class:`Page`, :class:`RepositorySummary`, :class:`TagSummary`,
  :class:`ManifestDetail`, :class:`Descriptor`, :class:`Platform`, :class:`HistoryStep`,
  :class:`ProjectSummary`, :class:`Member`, :class:`UserSummary`, :class:`AuditEntry`,
  :class:`UsageReport`; each has ``as_dict()``.
* Errors (``errors``): :class:`ManagementError` and its kinds :class:`Unauthenticated`
  (401), :class:`Forbidden` (403), :class:`NotFound` (404), :class:`Invalid` (400),
  :class:`Conflict` (409), :class:`Unsupported` (405), :class:`TooManyAttempts` (429),
  :class:`Unavailable` (503).

Who may do what (``authority``): anonymous callers see public projects only; guests
pull, developers push, maintainers and admins delete; only a project's admins (and
system admins) change its members and visibility; only system admins manage users,
create projects and read the audit log.
"""

from __future__ import annotations

from pyregistry.management.audit import AuditLog, AuditSink
from pyregistry.management.authority import Authority
from pyregistry.management.errors import (
    Conflict,
    Forbidden,
    Invalid,
    ManagementError,
    NotFound,
    Unauthenticated,
    Unavailable,
    Unsupported,
)
from pyregistry.management.images import Images
from pyregistry.management.logins import PasswordCheck, TooManyAttempts
from pyregistry.management.principal import Principal
from pyregistry.management.projects import Projects
from pyregistry.management.repositories import Repositories
from pyregistry.management.service import Management, build_management
from pyregistry.management.usage import StorageUsage
from pyregistry.management.users import Users
from pyregistry.management.views import (
    AuditEntry,
    Descriptor,
    HistoryStep,
    ManifestDetail,
    Member,
    Page,
    Platform,
    ProjectSummary,
    RepositorySummary,
    TagSummary,
    UsageReport,
    UserSummary,
)

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditSink",
    "Authority",
    "Conflict",
    "Descriptor",
    "Forbidden",
    "HistoryStep",
    "Images",
    "Invalid",
    "Management",
    "ManagementError",
    "ManifestDetail",
    "Member",
    "NotFound",
    "Page",
    "PasswordCheck",
    "Platform",
    "Principal",
    "ProjectSummary",
    "Projects",
    "Repositories",
    "RepositorySummary",
    "StorageUsage",
    "TagSummary",
    "TooManyAttempts",
    "Unauthenticated",
    "Unavailable",
    "Unsupported",
    "UsageReport",
    "UserSummary",
    "Users",
    "build_management",
]
