"""Storage usage as of the last measurement (``pyregistry.usage``): the online collector
publishes figures after each run, ``pyregistry du`` measures on demand. Nothing here
walks storage; a system admin sees every repository and project, anyone else only those
of the projects they may see.
"""

from __future__ import annotations

from collections.abc import Callable

from pyregistry.auth.rules import project_of
from pyregistry.management.authority import Authority
from pyregistry.management.principal import Principal
from pyregistry.management.views import UsageReport
from pyregistry.usage.measure import Usage

#: The last usage measurement (None: never measured).
UsageSource = Callable[[], Usage | None]


class StorageUsage:
    def __init__(self, authority: Authority, latest: UsageSource) -> None:
        self.authority = authority
        self.latest = latest

    def report(self, who: Principal) -> UsageReport:
        usage = self.latest()
        if usage is None:
            return UsageReport(None, None, None, None, [], [])
        visible = self.authority.visible_projects(who)
        repositories = [
            vars(r) for r in usage.repositories if visible is None or project_of(r.name) in visible
        ]
        projects = [vars(p) for p in usage.projects if visible is None or p.name in visible]
        if visible is None:
            return UsageReport(
                usage.measured_at,
                usage.bytes,
                usage.stored_bytes,
                usage.unreferenced_bytes,
                repositories,
                projects,
            )
        return UsageReport(usage.measured_at, None, None, None, repositories, projects)
