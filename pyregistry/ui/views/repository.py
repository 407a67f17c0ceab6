"""One repository: its tags (newest push first) with digest, size and platforms; one image
(a manifest or an index) with its layers, platforms, config, history, labels and
referrers; and the deletes, each behind a confirmation page.

Paths below ``/repositories/`` are ``NAME``, ``NAME/-/manifests/REFERENCE`` and
``NAME/-/{tags,manifests}/REFERENCE/delete``: ``-`` cannot be a component of a repository
name, so the name ends where ``/-/`` begins.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pyregistry.ui.context import ui_context
from pyregistry.ui.forms import checked_form
from pyregistry.ui.listing import list_query
from pyregistry.ui.principal import principal

TAGS_PER_PAGE = 50


def _split(rest: str) -> tuple[str, list[str]]:
    name, _, tail = rest.partition("/-/")
    return name.strip("/"), [part for part in tail.split("/") if part] if tail else []


async def dispatch(request: Request) -> Response:
    name, parts = _split(request.path_params["rest"])
    if not name:
        raise HTTPException(404)
    if not parts:
        if request.method != "GET":
            raise HTTPException(405)
        return await repository_page(request, name)
    if len(parts) == 2 and parts[0] == "manifests" and request.method == "GET":
        return await image_page(request, name, parts[1])
    if len(parts) == 3 and parts[0] in ("tags", "manifests") and parts[2] == "delete":
        return await delete(request, name, parts[0], parts[1])
    raise HTTPException(404)


async def repository_page(request: Request, name: str) -> Response:
    context = ui_context(request)
    who = principal(request)
    service = context.management
    summary = await service.repositories.get(who, name)
    query = list_query(request, ("pushed",), "pushed", descending=True, size=TAGS_PER_PAGE)
    tags = await service.repositories.tags(who, name, offset=query.offset, limit=query.size)
    values = {
        "section": "repositories",
        "repository": summary,
        "tags": tags,
        "query": query,
        "can_delete": "delete" in service.authority.actions(who, name),
        "host": context.pull_host(request),
    }
    return context.pages.render(request, "repository.html", values)


async def image_page(request: Request, name: str, reference: str) -> Response:
    context = ui_context(request)
    who = principal(request)
    service = context.management
    image = await service.images.manifest(who, name, reference)
    values = {
        "section": "repositories",
        "image": image,
        "reference": reference,
        "can_delete": "delete" in service.authority.actions(who, name),
        "host": context.pull_host(request),
    }
    return context.pages.render(request, "image.html", values)


async def delete(request: Request, name: str, kind: str, reference: str) -> Response:
    """GET: the confirmation page; POST (with the CSRF token): the delete itself."""
    context = ui_context(request)
    who = principal(request)
    service = context.management
    if request.method == "GET":
        service.authority.require_delete(who, name)
        values = {"section": "repositories", "name": name, "kind": kind, "reference": reference}
        return context.pages.render(request, "confirm_delete.html", values)
    if request.method != "POST":
        raise HTTPException(405)
    await checked_form(request)
    if kind == "tags":
        await service.images.delete_tag(who, name, reference)
        done = f"Tag {reference} deleted."
    else:
        digest = await service.images.delete_manifest(who, name, reference)
        done = f"Manifest {digest} and its tags deleted."
    request.session["flash"] = done
    target = context.pages.url("/repositories/" + name)
    return RedirectResponse(target, status_code=303)
