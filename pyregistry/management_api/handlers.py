"""What each management API route does: read the request's parameters, call the service
layer with the caller's :class:`~pyregistry.management.Principal`, return a view.
Permission checks are the service layer's; nothing here decides who may do what. Each
handler's docstring is its route's summary in the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.management import Invalid, Management, Principal


@dataclass
class Call:
    """One request, as a handler sees it."""

    management: Management
    who: Principal
    params: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.query.get(key)
        return value if value not in (None, "") else default

    def number(self, key: str, default: int) -> int:
        value = self.query.get(key)
        if value in (None, ""):
            return default
        try:
            return int(str(value))
        except ValueError as exc:
            raise Invalid(f"{key} must be an integer") from exc

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.query.get(key)
        if value in (None, ""):
            return default
        return str(value).lower() in ("1", "true", "yes")

    def field(self, key: str, kind: type, *, required: bool = True) -> Any:
        value = self.body.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Invalid(f"body field {key!r} must be a {kind.__name__}")
        return value


async def me(call: Call) -> Any:
    """The caller and what they may see."""
    return call.management.whoami(call.who)


async def list_repositories(call: Call) -> Any:
    """List and search repositories."""
    order = call.text("order", "asc")
    if order not in ("asc", "desc"):
        raise Invalid("order must be asc or desc")
    return await call.management.repositories.list(
        call.who,
        search=call.text("search"),
        project=call.text("project"),
        sort=call.text("sort", "name") or "name",
        descending=order == "desc",
        offset=call.number("offset", 0),
        limit=call.number("limit", 50),
    )


async def get_repository(call: Call) -> Any:
    """One repository."""
    return await call.management.repositories.get(call.who, call.params["name"])


async def list_tags(call: Call) -> Any:
    """Tags, newest push first."""
    return await call.management.repositories.tags(
        call.who,
        call.params["name"],
        offset=call.number("offset", 0),
        limit=call.number("limit", 50),
    )


async def delete_tag(call: Call) -> None:
    """Delete a tag."""
    await call.management.images.delete_tag(call.who, call.params["name"], call.params["tag"])


async def get_manifest(call: Call) -> Any:
    """An image in detail (by tag or digest)."""
    params = call.params
    return await call.management.images.manifest(call.who, params["name"], params["reference"])


async def delete_manifest(call: Call) -> Any:
    """Delete a manifest and its tags."""
    params = call.params
    digest = await call.management.images.delete_manifest(
        call.who, params["name"], params["reference"]
    )
    return {"deleted": digest}


async def list_projects(call: Call) -> Any:
    """Projects the caller may see."""
    return {"items": [p.as_dict() for p in call.management.projects.list(call.who)]}


async def create_project(call: Call) -> Any:
    """Create a project."""
    public = bool(call.field("public", bool, required=False))
    return await call.management.projects.create(call.who, call.field("name", str), public=public)


async def get_project(call: Call) -> Any:
    """One project with its members."""
    return call.management.projects.get(call.who, call.params["project"])


async def update_project(call: Call) -> Any:
    """Make a project public or private."""
    public = call.field("public", bool)
    return await call.management.projects.set_public(call.who, call.params["project"], public)


async def delete_project(call: Call) -> None:
    """Forget a project's settings."""
    await call.management.projects.delete(call.who, call.params["project"])


async def set_member(call: Call) -> Any:
    """Add a member or set their role."""
    params = call.params
    role = call.field("role", str)
    return await call.management.projects.set_member(
        call.who, params["project"], params["user"], role
    )


async def remove_member(call: Call) -> Any:
    """Remove a member."""
    params = call.params
    return await call.management.projects.remove_member(call.who, params["project"], params["user"])


async def list_users(call: Call) -> Any:
    """Users."""
    return {"items": [u.as_dict() for u in call.management.users.list(call.who)]}


async def create_user(call: Call) -> Any:
    """Create a user."""
    admin = bool(call.field("admin", bool, required=False))
    name, password = call.field("name", str), call.field("password", str)
    return await call.management.users.create(call.who, name, password, admin=admin)


async def update_user(call: Call) -> Any:
    """Grant or revoke system admin."""
    admin = call.field("admin", bool)
    return await call.management.users.set_admin(call.who, call.params["user"], admin)


async def set_password(call: Call) -> None:
    """Set a password."""
    password = call.field("password", str)
    await call.management.users.set_password(call.who, call.params["user"], password)


async def delete_user(call: Call) -> None:
    """Delete a user."""
    await call.management.users.delete(call.who, call.params["user"])


async def usage(call: Call) -> Any:
    """Storage usage as last measured."""
    return call.management.usage.report(call.who)


async def audit(call: Call) -> Any:
    """The audit log, newest first."""
    return await call.management.audit_page(
        call.who,
        before=call.text("before"),
        limit=call.number("limit", 50),
        action=call.text("action"),
        actor=call.text("actor"),
    )
