"""Every route of the management API (relative to its prefix, ``/api/v1`` by default), as a
table: one route a line, its query parameters and request body beside it by handler.

A route's summary is its handler's docstring and its OpenAPI tag the first segment of its
path (``/me`` is the ``session``), so neither is written twice.
"""

from __future__ import annotations

from pyregistry.index.browse import SORT_KEYS
from pyregistry.management_api import handlers
from pyregistry.management_api.table import PAGE, Body, Query, Route

#: Who may call a route (the table's last column), as the document says it.
ACCESS = {
    "anyone": "anyone",
    "pullers": "anyone (sees the projects they may pull)",
    "project": "see the project",
    "maintainers": "maintainers and admins of the project",
    "project-admins": "project admins",
    "admins": "system admins",
    "self": "system admins, or the user",
    "figures": "anyone (their projects' figures)",
}

#: method, path, handler, the view it answers with (``-``: 204 No Content), ACCESS key.
TABLE = """
GET     /me                                         me                Me              anyone
GET     /repositories                               list_repositories RepositoryPage  pullers
GET     /repositories/{name}                        get_repository    Repository      project
GET     /repositories/{name}/tags                   list_tags         TagPage         project
DELETE  /repositories/{name}/tags/{tag}             delete_tag        -               maintainers
GET     /repositories/{name}/manifests/{reference}  get_manifest      Manifest        project
DELETE  /repositories/{name}/manifests/{reference}  delete_manifest   Deleted         maintainers
GET     /projects                                   list_projects     ProjectList     anyone
POST    /projects                                   create_project    Project         admins
GET     /projects/{project}                         get_project       Project         project
PATCH   /projects/{project}                         update_project    Project  project-admins
DELETE  /projects/{project}                         delete_project    -               admins
PUT     /projects/{project}/members/{user}          set_member        Project  project-admins
DELETE  /projects/{project}/members/{user}          remove_member     Project  project-admins
GET     /users                                      list_users        UserList        admins
POST    /users                                      create_user       User            admins
PATCH   /users/{user}                               update_user       User            admins
PUT     /users/{user}/password                      set_password      -               self
DELETE  /users/{user}                               delete_user       -               admins
GET     /usage                                      usage             Usage           figures
GET     /audit                                      audit             AuditPage       admins
"""

QUERIES: dict[str, tuple[Query, ...]] = {
    "list_repositories": (
        Query("search", description="a substring of the name (case-insensitive)"),
        Query("project", description="only this project's repositories"),
        Query("sort", enum=SORT_KEYS),
        Query("order", enum=("asc", "desc")),
        *PAGE,
    ),
    "list_tags": PAGE,
    "audit": (
        Query("before", description="an entry id: the page after it (``next``)"),
        Query("limit", "integer", "entries per page (1-500, default 50)"),
        Query("action", description="an action or its prefix (push, delete, member)"),
        Query("actor", description="only this user's entries"),
    ),
}

BODIES = {
    "create_project": Body({"name": ("string", True), "public": ("boolean", False)}),
    "update_project": Body({"public": ("boolean", True)}),
    "set_member": Body({"role": ("string", True)}),
    "create_user": Body(
        {"name": ("string", True), "password": ("string", True), "admin": ("boolean", False)}
    ),
    "update_user": Body({"admin": ("boolean", True)}),
    "set_password": Body({"password": ("string", True)}),
}

#: The OpenAPI tag of paths whose first segment is not one.
TAGS = {"me": "session"}


def route(line: str) -> Route:
    """One line of ``TABLE`` as a route (a misspelt handler fails at import)."""
    method, path, name, returns, access = line.split()
    handler = getattr(handlers, name)
    segment = path.split("/")[1]
    return Route(
        method,
        path,
        handler,
        (handler.__doc__ or name).strip().rstrip("."),
        TAGS.get(segment, segment),
        query=QUERIES.get(name, ()),
        body=BODIES.get(name),
        returns=None if returns == "-" else returns,
        access=ACCESS[access],
    )


ROUTES: tuple[Route, ...] = tuple(route(line) for line in TABLE.strip().splitlines())
