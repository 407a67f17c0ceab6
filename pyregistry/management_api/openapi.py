"""The OpenAPI 3.1 document of the management API, generated from the route table and
the service layer's view dataclasses, so it cannot drift from what the server does."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from pyregistry.management import views
from pyregistry.management_api.routes import ROUTES
from pyregistry.management_api.table import Route

VIEWS: tuple[type, ...] = (
    views.RepositorySummary,
    views.TagSummary,
    views.Platform,
    views.Descriptor,
    views.HistoryStep,
    views.ManifestDetail,
    views.Member,
    views.ProjectSummary,
    views.UserSummary,
    views.AuditEntry,
    views.UsageReport,
)
#: What a route's ``returns`` names: a view, or a page / list of views.
RETURNS: dict[str, dict[str, Any]] = {
    "Repository": {"$ref": "#/components/schemas/RepositorySummary"},
    "Manifest": {"$ref": "#/components/schemas/ManifestDetail"},
    "Project": {"$ref": "#/components/schemas/ProjectSummary"},
    "User": {"$ref": "#/components/schemas/UserSummary"},
    "Usage": {"$ref": "#/components/schemas/UsageReport"},
}
PAGES = {"RepositoryPage": "RepositorySummary", "TagPage": "TagSummary", "AuditPage": "AuditEntry"}
LISTS = {"ProjectList": "ProjectSummary", "UserList": "UserSummary"}
OTHER: dict[str, dict[str, Any]] = {
    "Me": {
        "type": "object",
        "properties": {
            "user": {"type": ["string", "null"]},
            "system_admin": {"type": "boolean"},
            "projects": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    },
    "Deleted": {"type": "object", "properties": {"deleted": {"type": "string"}}},
    "Error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "detail": {}},
    },
}
ERRORS = {
    "400": "Invalid input",
    "401": "Log in first (or wrong credentials)",
    "403": "The caller's role does not allow it",
    "404": "No such repository, tag, manifest, project or user",
}


def _schema(hint: Any) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [_schema(a) for a in args if a is not type(None)]
        return {"anyOf": [*inner, {"type": "null"}]} if type(None) in args else inner[0]
    if origin is list:
        return {"type": "array", "items": _schema(args[0])}
    if origin is dict:
        value = args[1] if len(args) > 1 else Any
        return {"type": "object", "additionalProperties": _schema(value) if value is str else {}}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {"$ref": f"#/components/schemas/{hint.__name__}"}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return {"type": simple[hint]} if hint in simple else {}


def view_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, vars(views))
    names = [f.name for f in dataclasses.fields(cls)]
    return {
        "type": "object",
        "required": names,
        "properties": {name: _schema(hints[name]) for name in names},
    }


def _schemas() -> dict[str, Any]:
    found: dict[str, Any] = {cls.__name__: view_schema(cls) for cls in VIEWS}
    for name, item in PAGES.items():
        found[name] = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
                "total": {"type": ["integer", "null"]},
                "offset": {"type": "integer"},
                "limit": {"type": "integer"},
                "next": {"type": ["string", "null"], "description": "cursor of the next page"},
            },
        }
    for name, item in LISTS.items():
        found[name] = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}
            },
        }
    found.update(OTHER)
    return found


def _operation(route: Route) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in route.parameters
    ]
    for query in route.query:
        schema: dict[str, Any] = {"type": query.kind}
        if query.enum:
            schema["enum"] = list(query.enum)
        parameters.append(
            {"name": query.name, "in": "query", "description": query.description, "schema": schema}
        )
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses: dict[str, Any] = {code: {"description": d, **error} for code, d in ERRORS.items()}
    if route.returns is None:
        responses["204"] = {"description": "Done"}
    else:
        schema = RETURNS.get(route.returns, {"$ref": f"#/components/schemas/{route.returns}"})
        responses["200"] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema}},
        }
    operation: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "description": f"Allowed for: {route.access}.",
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if route.body is not None:
        properties = {k: {"type": kind} for k, (kind, _) in route.body.fields.items()}
        required = [k for k, (_, needed) in route.body.fields.items() if needed]
        body = {"type": "object", "properties": properties, "required": required}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def openapi_document(prefix: str, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["session"],
                "responses": {"200": {"description": "OpenAPI 3.1"}},
            }
        }
    }
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pyregistry management API",
            "version": version,
            "description": "Browse and administer the registry. Authenticate with the "
            "registry's users (HTTP Basic) or its bearer tokens; anonymous callers see "
            "public projects only.",
        },
        "servers": [{"url": prefix}],
        "security": [{}, {"basic": []}, {"bearer": []}],
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            "schemas": _schemas(),
        },
        "paths": paths,
    }
