"""The service layer on a real filesystem registry with its metadata index: every
refusal the issue lists, listings from the index, image details, audit entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyregistry.app import build_registry
from pyregistry.auth.files import WatchedFile
from pyregistry.auth.htpasswd import Htpasswd
from pyregistry.auth.rules import parse_rules
from pyregistry.events import acting_as
from pyregistry.index import IndexService
from pyregistry.management import (
    AuditLog,
    AuditSink,
    Conflict,
    Forbidden,
    Management,
    NotFound,
    Principal,
    Unauthenticated,
    build_management,
)
from pyregistry.management.images import ActingCaller
from pyregistry.notifications.listener import NotifyingNamespace
from pyregistry.storage.registry import Registry
from tests.management.helpers import (
    PASSWORD,
    push_image,
    push_multiarch,
    push_signature,
    write_auth_files,
)
from tests.support.server import filesystem_config

ANON = Principal.anonymous("192.0.2.1")
ROOT, ALICE, MIA = Principal("root", "10.0.0.1"), Principal("alice"), Principal("mia")
GUS, EVE = Principal("gus"), Principal("eve")


@dataclass
class Env:
    registry: Registry
    writer: NotifyingNamespace
    management: Management
    rules_path: Path
    digests: dict[str, str]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    users_path, rules_path = write_auth_files(tmp_path)
    registry = build_registry(filesystem_config(tmp_path / "data"))
    audit = AuditLog(registry.driver)
    writer = NotifyingNamespace(registry, AuditSink(audit))
    management = build_management(
        registry,
        writer,
        users=Htpasswd(str(users_path)),
        rules=WatchedFile(str(rules_path), parse_rules, what="rules"),
        audit=audit,
    )
    digests: dict[str, str] = {}
    with acting_as(ActingCaller(Principal("dev", "10.1.1.1"), "PUT")):
        for i in range(3):
            digests[f"library/app{i}"] = await push_image(writer, f"library/app{i}", "v1")
        digests["team/api"] = await push_image(writer, "team/api", "v1")
        digests["team/api:v2"] = await push_multiarch(writer, "team/api", "v2")
        digests["team/web"] = await push_image(writer, "team/web", "v1")
        digests["sig"] = await push_signature(writer, "team/api", digests["team/api"])
        digests["other/x"] = await push_image(writer, "other/x", "v1")
    index = registry.index
    assert isinstance(index, IndexService)
    assert await index.rebuild()
    try:
        yield Env(registry, writer, management, rules_path, digests)
    finally:
        await registry.close()


async def names(env: Env, who: Principal, **query: object) -> list[str]:
    page = await env.management.repositories.list(who, **query)  # type: ignore[arg-type]
    return [r.name for r in page.items]


async def test_visibility_follows_the_roles(env: Env) -> None:
    assert await names(env, ANON) == ["library/app0", "library/app1", "library/app2"]
    assert await names(env, EVE) == ["library/app0", "library/app1", "library/app2"]
    assert "team/api" in await names(env, GUS)
    assert "other/x" not in await names(env, GUS)
    assert "other/x" in await names(env, ROOT)
    with pytest.raises(Unauthenticated):
        await env.management.repositories.tags(ANON, "team/api")
    with pytest.raises(Forbidden):
        await env.management.images.manifest(EVE, "team/api", "v1")


async def test_search_sort_and_pages(env: Env) -> None:
    page = await env.management.repositories.list(ROOT, search="APP", limit=2)
    assert [r.name for r in page.items] == ["library/app0", "library/app1"]
    assert page.total == 3
    later = await env.management.repositories.list(ROOT, search="app", offset=2, limit=2)
    assert [r.name for r in later.items] == ["library/app2"]
    by_tags = await env.management.repositories.list(ROOT, sort="tags", descending=True)
    assert by_tags.items[0].name == "team/api" and by_tags.items[0].tag_count == 2
    assert by_tags.items[0].pushed_at is not None


async def test_tags_and_image_detail(env: Env) -> None:
    tags = await env.management.repositories.tags(GUS, "team/api")
    assert {t.name for t in tags.items} == {"v1", "v2"}
    multi = next(t for t in tags.items if t.name == "v2")
    assert {p.architecture for p in multi.platforms} == {"amd64", "arm64"}
    single = next(t for t in tags.items if t.name == "v1")
    assert single.size and single.size > 8192 and single.digest == env.digests["team/api"]
    detail = await env.management.images.manifest(GUS, "team/api", "v1")
    assert detail.config is not None and len(detail.layers) == 2
    assert detail.platforms[0].architecture == "amd64"
    assert [r.digest for r in detail.referrers] == [env.digests["sig"]]
    assert detail.tags == ["v1"]
    with pytest.raises(NotFound):  # cached from team/api, but library/app0 does not hold it
        await env.management.images.manifest(ROOT, "library/app0", env.digests["team/api"])


async def test_deletes_need_maintainer(env: Env) -> None:
    with pytest.raises(Unauthenticated):
        await env.management.images.delete_tag(ANON, "library/app0", "v1")
    with pytest.raises(Forbidden):
        await env.management.images.delete_tag(GUS, "team/web", "v1")
    with pytest.raises(Forbidden):
        await env.management.images.delete_manifest(Principal("dev"), "team/web", "v1")
    await env.management.images.delete_tag(MIA, "team/web", "v1")
    with pytest.raises(NotFound):
        await env.management.images.delete_tag(MIA, "team/web", "v1")
    digest = await env.management.images.delete_manifest(ALICE, "team/api", "v2")
    assert digest == env.digests["team/api:v2"]
    page = await env.management.audit_page(ROOT, action="delete")
    assert [(e.actor, e.target) for e in page.items] == [
        ("alice", f"team/api@{digest}"),
        ("mia", "team/web:v1"),
    ]


async def test_members_only_by_project_admins(env: Env) -> None:
    projects = env.management.projects
    with pytest.raises(Forbidden):
        await projects.set_member(MIA, "team", "eve", "guest")
    with pytest.raises(Unauthenticated):
        await projects.set_public(ANON, "team", True)
    with pytest.raises(Forbidden):
        projects.get(EVE, "team")
    # A hand edit since the last read survives a change made here.
    env.rules_path.write_text(env.rules_path.read_text().replace("dev: developer", "dev: guest"))
    updated = await projects.set_member(ALICE, "team", "eve", "developer")
    assert {(m.user, m.role) for m in updated.members} >= {("eve", "developer"), ("dev", "guest")}
    assert "team/api" in await names(env, EVE)
    await projects.set_public(ALICE, "team", True)
    assert "team/api" in await names(env, ANON)
    with pytest.raises(Forbidden):
        await projects.create(ALICE, "newproj")
    await projects.create(ROOT, "newproj", public=True)
    with pytest.raises(Conflict):
        await projects.create(ROOT, "newproj")
    assert "eve: developer" in env.rules_path.read_text()
    actions = [e.action for e in (await env.management.audit_page(ROOT)).items]
    assert actions[:3] == ["project.create", "project.visibility", "member.set"]


async def test_users_and_audit_only_for_system_admins(env: Env) -> None:
    users = env.management.users
    for who, error in ((ANON, Unauthenticated), (ALICE, Forbidden)):
        with pytest.raises(error):
            users.list(who)
        with pytest.raises(error):
            await users.create(who, "newbie", "long-password")
        with pytest.raises(error):
            await env.management.audit_page(who)
    await users.create(ROOT, "newbie", "long-password", admin=True)
    assert env.management.user_file is not None
    assert env.management.user_file.verify("newbie", "long-password")
    assert env.management.authority.is_system_admin(Principal("newbie"))
    await users.delete(ROOT, "newbie")
    assert "newbie" not in {u.name for u in users.list(ROOT)}


async def test_audit_pages_newest_first(env: Env) -> None:
    audit = env.management.audit
    first = await env.management.audit_page(ROOT, limit=3)
    assert len(first.items) == 3 and first.next is not None
    assert first.items[0].time >= first.items[-1].time
    second = await env.management.audit_page(ROOT, limit=100, before=first.next)
    assert {e.id for e in first.items}.isdisjoint(e.id for e in second.items)
    pushes = [e for e in first.items + second.items if e.action == "push"]
    assert len(pushes) >= 7 and all(e.actor == "dev" for e in pushes)
    assert pushes[-1].address == "10.1.1.1"
    await audit.record_login("gus", "127.0.0.1", "token", False)
    newest = (await env.management.audit_page(ROOT, limit=1)).items[0]
    assert (newest.action, newest.actor) == ("login.failed", "gus")


async def test_password_logins_are_throttled_and_audited(env: Env) -> None:
    passwords = env.management.passwords
    who = await passwords.login("gus", PASSWORD, "10.9.9.9", user_agent="ui")
    assert (who.user, who.via, who.address) == ("gus", "session", "10.9.9.9")
    with pytest.raises(Unauthenticated):
        await passwords.login("gus", "wrong-password", "10.9.9.9")
    quiet = await passwords.login("gus", PASSWORD, "10.9.9.9", record_success=False)
    assert quiet.user == "gus"
    page = await env.management.audit_page(ROOT, action="login")
    assert [(e.action, e.address) for e in page.items] == [
        ("login.failed", "10.9.9.9"),
        ("login", "10.9.9.9"),
    ]


async def test_foreign_tokens_without_rules_let_nobody_in(env: Env) -> None:
    """No users file and no rules (tokens of another issuer): no one is an admin."""
    blind = build_management(env.registry, env.writer, auth_configured=True)
    assert (await blind.repositories.list(Principal("someone"))).items == []
    with pytest.raises(Forbidden):
        await blind.images.delete_tag(Principal("someone"), "library/app0", "v1")
    with pytest.raises(Forbidden):
        await blind.audit_page(Principal("someone"))
