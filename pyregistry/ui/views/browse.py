"""The lists: projects and repositories, searched, sorted and paged.

Repositories come from the service layer's listing (the metadata index: tag counts,
sizes, last push), filtered to what the viewer may see.
Projects are the rules file's (a handful, not thousands), each with its repository count
from the same listing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pyregistry.index.browse import SORT_KEYS
from pyregistry.ui.context import ui_context, viewer_of
from pyregistry.ui.listing import list_query
from pyregistry.ui.principal import principal

REPOSITORY_SORTS = SORT_KEYS
PROJECT_SORTS = ("name", "repositories", "visibility")


async def repositories(request: Request) -> Response:
    context = ui_context(request)
    query = list_query(request, REPOSITORY_SORTS, "name")
    project = request.query_params.get("project") or None
    found = await context.management.repositories.list(
        principal(request),
        search=query.search or None,
        project=project,
        sort=query.sort,
        descending=query.descending,
        offset=query.offset,
        limit=query.size,
    )
    values = {"section": "repositories", "query": query, "found": found, "project": project}
    return context.pages.render(request, "repositories.html", values)


async def projects(request: Request) -> Response:
    context = ui_context(request)
    query = list_query(request, PROJECT_SORTS, "name")
    who = principal(request)
    service = context.management
    search = query.search.lower()
    listed = [p for p in service.projects.list(who) if search in p.name]
    counts: dict[str, int | None] = {}

    async def count(names: list[str]) -> None:
        for name in names:
            page = await service.repositories.list(who, project=name, limit=1)
            counts[name] = page.total

    if query.sort == "repositories":  # every count is needed to sort by it
        await count([p.name for p in listed])
        listed.sort(key=lambda p: (counts.get(p.name) or 0, p.name))
    elif query.sort == "visibility":
        listed.sort(key=lambda p: (not p.public, p.name))
    if query.descending:
        listed.reverse()
    total = len(listed)
    shown = listed[query.offset : query.offset + query.size]
    await count([p.name for p in shown if p.name not in counts])
    values = {
        "section": "projects",
        "query": query,
        "projects": shown,
        "total": total,
        "counts": counts,
        # A project is an entry of the rules file: without one there is none to create.
        "can_create": viewer_of(request).admin and service.authority.rules_file is not None,
    }
    return context.pages.render(request, "projects.html", values)
