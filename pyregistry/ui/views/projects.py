"""One project: its repositories, its members and whether it is public; its admins (and
system admins) change members, roles and visibility here, and system admins create
projects. The service layer checks the role on every change; the page only hides the
forms a viewer could not use."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pyregistry.auth.rules import ROLES
from pyregistry.ui.context import ui_context
from pyregistry.ui.forms import FormRefused, checked_form
from pyregistry.ui.principal import principal


async def project_page(request: Request) -> Response:
    context = ui_context(request)
    who = principal(request)
    service = context.management
    name = request.path_params["name"]
    project = service.projects.get(who, name)
    repositories = await service.repositories.list(who, project=name, limit=100)
    values = {
        "section": "projects",
        "project": project,
        "repositories": repositories,
        "manage": project.role == "admin",
        "roles": ROLES,
    }
    return context.pages.render(request, "project.html", values)


def _field(form: FormData, key: str) -> str:
    value = form.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FormRefused(400, f"the form needs a {key}")
    return value.strip()


async def create(request: Request) -> Response:
    """POST ``name`` (and ``public``): a new project (system admins only)."""
    context = ui_context(request)
    form = await checked_form(request)
    name = _field(form, "name")
    public = form.get("public") == "true"
    await context.management.projects.create(principal(request), name, public=public)
    request.session["flash"] = f"Project {name} created{' (public)' if public else ''}."
    return RedirectResponse(context.pages.url(f"/projects/{name}"), status_code=303)


async def change(request: Request) -> Response:
    """POST ``members`` (user, role), ``members/remove`` (user) or ``visibility`` (public)."""
    context = ui_context(request)
    who = principal(request)
    projects = context.management.projects
    name = request.path_params["name"]
    what = request.path_params["change"]
    form = await checked_form(request)
    if what == "members":
        user, role = _field(form, "user"), _field(form, "role")
        await projects.set_member(who, name, user, role)
        done = f"{user} is now {role} of {name}."
    elif what == "members-remove":
        user = _field(form, "user")
        await projects.remove_member(who, name, user)
        done = f"{user} is no longer a member of {name}."
    elif what == "visibility":
        public = _field(form, "public") == "true"
        await projects.set_public(who, name, public)
        done = f"{name} is now {'public' if public else 'private'}."
    else:
        raise FormRefused(404, "there is no such change")
    request.session["flash"] = done
    return RedirectResponse(context.pages.url(f"/projects/{name}"), status_code=303)
