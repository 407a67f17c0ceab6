"""The management API over a real socket: routes and their OpenAPI document, the
refusals by role, pagination, CORS preflights, JSON errors, and the audit log of
pushes, deletes, logins and permission changes made over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.index.helpers import push_tagged
from tests.management.conftest import ORIGIN, Site

API = "/api/v1"


@pytest.fixture(scope="module")
def pushed(site: Site) -> dict[str, str]:
    """Images pushed over /v2/ with tokens: 3 in library (by root), 2 in team (by dev)."""
    digests = {}
    for name, user, tags in (
        ("library/app0", "root", ["v1"]),
        ("library/app1", "root", ["v1"]),
        ("library/app2", "root", ["v1", "v2"]),
        ("team/api", "dev", ["v1", "v2"]),
        ("team/web", "dev", ["v1"]),
    ):
        token = site.token(user, f"repository:{name}:pull,push")
        with httpx.Client(base_url=site.url, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            digests[name] = push_tagged(client, name, tags, seed=name)
    return digests


def get(site: Site, path: str, user: str | None = None, **params: object) -> httpx.Response:
    with site.client(user) as client:
        return client.get(API + path, params=params)  # type: ignore[arg-type]


def test_every_route_is_in_the_openapi_document(site: Site) -> None:
    from pyregistry.management_api.routes import ROUTES

    document = get(site, "/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": API}]
    for route in ROUTES:
        assert route.method.lower() in document["paths"][route.path], route.path
    refs = str(document["paths"])
    for name in ("RepositoryPage", "TagPage", "ManifestDetail", "AuditPage", "Error"):
        assert name in document["components"]["schemas"]
        assert name in refs or name == "ManifestDetail"


def test_anonymous_sees_public_projects_only(site: Site, pushed: dict[str, str]) -> None:
    names = [r["name"] for r in get(site, "/repositories").json()["items"]]
    assert names == ["library/app0", "library/app1", "library/app2"]
    refused = get(site, "/repositories/team/api/tags")
    assert refused.status_code == 401 and refused.json()["code"] == "UNAUTHORIZED"
    assert refused.headers["www-authenticate"].startswith("Basic")
    assert get(site, "/repositories/team/api/tags", "eve").status_code == 403
    assert [p["name"] for p in get(site, "/projects").json()["items"]] == ["library"]


def test_pages_search_and_sort(site: Site, pushed: dict[str, str]) -> None:
    first = get(site, "/repositories", "gus", limit=2).json()
    assert first["total"] == 5 and len(first["items"]) == 2
    rest = get(site, "/repositories", "gus", limit=2, offset=4).json()
    assert [r["name"] for r in rest["items"]] == ["team/web"]
    found = get(site, "/repositories", "gus", search="API").json()
    assert [(r["name"], r["tag_count"]) for r in found["items"]] == [("team/api", 2)]
    ordered = get(site, "/repositories", "root", sort="tags", order="desc").json()["items"]
    assert ordered[0]["tag_count"] == 2
    bad = get(site, "/repositories", "root", limit=0)
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID"


def test_tags_and_manifest(site: Site, pushed: dict[str, str]) -> None:
    tags = get(site, "/repositories/team/api/tags", "gus").json()
    assert {t["name"] for t in tags["items"]} == {"v1", "v2"}
    assert all(t["digest"] == pushed["team/api"] and t["size"] for t in tags["items"])
    detail = get(site, "/repositories/team/api/manifests/v1", "gus").json()
    assert detail["digest"] == pushed["team/api"] and len(detail["layers"]) == 1
    assert get(site, "/repositories/team/api/manifests/nope", "gus").status_code == 404


def test_guests_cannot_delete_maintainers_can(site: Site, pushed: dict[str, str]) -> None:
    with site.client() as anonymous:
        assert anonymous.delete(f"{API}/repositories/library/app2/tags/v2").status_code == 401
    with site.client("gus") as guest:
        refused = guest.delete(f"{API}/repositories/team/api/tags/v2")
        assert refused.status_code == 403 and refused.json()["code"] == "DENIED"
    with site.client("mia") as maintainer:
        assert maintainer.delete(f"{API}/repositories/team/api/tags/v2").status_code == 204
    token = site.token("alice")
    with site.client() as bearer:
        bearer.headers["Authorization"] = f"Bearer {token}"
        deleted = bearer.delete(f"{API}/repositories/library/app2/tags/v2")
        assert deleted.status_code == 403  # alice has no role in library (public: pull only)
        gone = bearer.delete(f"{API}/repositories/team/web/manifests/{pushed['team/web']}")
        assert gone.status_code == 200 and gone.json() == {"deleted": pushed["team/web"]}
    tags = get(site, "/repositories/team/api/tags", "gus").json()["items"]
    assert [t["name"] for t in tags] == ["v1"]


def test_members_only_by_project_admins(site: Site) -> None:
    url = f"{API}/projects/team/members/eve"
    with site.client("mia") as maintainer:
        assert maintainer.put(url, json={"role": "guest"}).status_code == 403
    with site.client() as anonymous:
        assert anonymous.put(url, json={"role": "guest"}).status_code == 401
    with site.client("alice") as admin:
        assert admin.put(url, json={"role": "oops"}).status_code == 400
        assert admin.put(url, json=["guest"]).status_code == 400
        changed = admin.put(url, json={"role": "guest"})
        assert changed.status_code == 200, changed.text
        assert {"user": "eve", "role": "guest"} in changed.json()["members"]
    assert "eve: guest" in site.rules.read_text()
    assert get(site, "/repositories/team/api/tags", "eve").status_code == 200


def test_users_and_audit_only_for_system_admins(site: Site) -> None:
    for user, status in ((None, 401), ("alice", 403)):
        assert get(site, "/users", user).status_code == status
        assert get(site, "/audit", user).status_code == status
        with site.client(user) as client:
            made = client.post(f"{API}/users", json={"name": "x1", "password": "p" * 10})
            assert made.status_code == status
    with site.client("root") as root:
        made = root.post(f"{API}/users", json={"name": "newbie", "password": "long-password"})
        assert made.status_code == 200, made.text
        assert "newbie" in [u["name"] for u in root.get(f"{API}/users").json()["items"]]
    with httpx.Client(base_url=site.url, auth=("newbie", "long-password")) as newbie:
        assert newbie.get(f"{API}/me").json() == {
            "user": "newbie",
            "system_admin": False,
            "projects": ["library"],
        }
    assert get(site, "/me", "eve").status_code == 200
    with httpx.Client(base_url=site.url, auth=("eve", "wrong-password")) as wrong:
        assert wrong.get(f"{API}/me").status_code == 401


def test_audit_log_records_who_did_what(site: Site, pushed: dict[str, str]) -> None:
    entries = get(site, "/audit", "root", limit=500).json()["items"]
    seen = {(e["action"], e["actor"], e["target"]) for e in entries}
    assert ("push", "dev", "team/api:v1") in seen
    assert ("delete", "mia", "team/api:v2") in seen
    assert ("delete", "alice", f"team/web@{pushed['team/web']}") in seen
    assert ("member.set", "alice", "team") in seen
    assert ("user.create", "root", "newbie") in seen
    assert ("login", "dev", "dev") in seen  # the token service
    assert ("login.failed", "eve", "eve") in seen
    assert all(e["address"] == "127.0.0.1" for e in entries)
    times = [e["time"] for e in entries]
    assert times == sorted(times, reverse=True)
    page = get(site, "/audit", "root", limit=2).json()
    after = get(site, "/audit", "root", limit=2, before=page["next"]).json()
    assert after["items"][0]["time"] <= page["items"][-1]["time"]
    assert get(site, "/audit", "root", action="member").json()["items"][0]["action"] == "member.set"
    assert get(site, "/audit", "root", before="bogus").status_code == 400


def test_cors_preflight_needs_no_credentials(site: Site) -> None:
    with site.client() as client:
        preflight = client.options(
            f"{API}/repositories/team/api/tags/v1",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert "DELETE" in preflight.headers["access-control-allow-methods"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        simple = client.get(f"{API}/repositories", headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        other = client.get(f"{API}/repositories", headers={"Origin": "https://evil.test"})
        assert "access-control-allow-origin" not in other.headers
        plain = client.options(f"{API}/repositories")
        assert plain.status_code == 204 and plain.headers["allow"] == "GET"


def test_errors_are_json(site: Site) -> None:
    with site.client("root") as client:
        missing = client.get(f"{API}/nothing-here")
        assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
        wrong = client.post(f"{API}/repositories")
        assert wrong.status_code == 405 and wrong.json()["code"] == "METHOD_NOT_ALLOWED"
        for odd in ("/repositories/Team/API/tags", "/repositories/team/../x/tags"):
            assert client.get(API + odd).status_code in (400, 404), odd
        assert client.get(f"{API}/repositories/team/api/manifests/sha256:zz").status_code == 400
        assert client.delete(f"{API}/repositories/team/api/tags/-bad-").status_code in (400, 404)
        assert client.get(f"{API}/repositories", params={"sort": "colour"}).status_code == 400
        garbage = client.post(f"{API}/projects", content=b"{not json")
        assert garbage.status_code == 400 and garbage.json()["code"] == "INVALID"
    with site.client() as client:
        malformed = client.get(f"{API}/me", headers={"Authorization": "Digest x"})
        assert malformed.status_code == 401 and malformed.json()["code"] == "UNAUTHORIZED"
