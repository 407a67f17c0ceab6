"""For system admins: storage usage (as of the last measurement) and the audit log of
pushes, deletes, logins and permission changes, newest first, paged by cursor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pyregistry.ui.context import ui_context
from pyregistry.ui.principal import principal

AUDIT_PAGE = 50


async def usage(request: Request) -> Response:
    context = ui_context(request)
    who = principal(request)
    context.management.authority.require_system_admin(who)
    report = context.management.usage.report(who)
    projects = sorted(report.projects, key=lambda p: -(p.get("bytes") or 0))
    repositories = sorted(report.repositories, key=lambda r: -(r.get("bytes") or 0))[:100]
    values = {
        "section": "usage",
        "report": report,
        "projects": projects,
        "repositories": repositories,
    }
    return context.pages.render(request, "usage.html", values)


async def audit(request: Request) -> Response:
    context = ui_context(request)
    params = request.query_params
    action = params.get("action", "").strip() or None
    actor = params.get("actor", "").strip() or None
    before = params.get("before") or None
    page = await context.management.audit_page(
        principal(request), before=before, limit=AUDIT_PAGE, action=action, actor=actor
    )
    values = {"section": "audit", "page": page, "action": action, "actor": actor}
    return context.pages.render(request, "audit.html", values)
