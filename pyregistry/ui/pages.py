"""The UI's page routes, in one list (the login pages and static files are the app's own)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from pyregistry.ui.views import admin, browse, projects, repository


def page_routes() -> list[BaseRoute]:
    return [
        Route("/projects", browse.projects),
        Route("/projects/{name}", projects.project_page),
        Route("/projects/-/create", projects.create, methods=["POST"]),
        Route("/projects/{name}/{change}", projects.change, methods=["POST"]),
        Route("/repositories", browse.repositories),
        Route("/repositories/{rest:path}", repository.dispatch, methods=["GET", "POST"]),
        Route("/usage", admin.usage),
        Route("/audit", admin.audit),
    ]
