"""The management API with other access control: htpasswd with a rules file (``docker
login`` and failed passwords on ``/v2/`` reach the audit log; bearer tokens are not
accepted without token auth) and no auth at all (the registry is open, and so is this,
but there are no users to manage)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.config.model import Config, StorageConfig
from tests.index.helpers import push_tagged
from tests.management.helpers import PASSWORD, write_auth_files
from tests.support.server import run_server

API = "/api/v1"


@pytest.fixture(scope="module")
def htpasswd_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("htpasswd-site")
    users, rules = write_auth_files(root)
    config = Config(
        storage=StorageConfig(driver="inmemory", delete_enabled=True),
        auth={"htpasswd": {"realm": "test", "path": str(users), "rules": str(rules)}},  # type: ignore[arg-type]
        management={"enabled": True, "prefix": "/manage/"},  # type: ignore[arg-type]
    )
    with run_server(create_app(config)) as url:
        yield url


def test_docker_login_and_failures_are_audited(htpasswd_site: str) -> None:
    with httpx.Client(base_url=htpasswd_site, auth=("dev", PASSWORD)) as dev:
        assert dev.get("/v2/").status_code == 200  # what `docker login` does
        push_tagged(dev, "team/api", ["v1"], seed="modes")
    with httpx.Client(base_url=htpasswd_site, auth=("eve", "not-her-password")) as eve:
        assert eve.get("/v2/").status_code == 401
    with httpx.Client(base_url=htpasswd_site, auth=("root", PASSWORD)) as root:
        entries = root.get("/manage/audit").json()["items"]
        seen = [(e["action"], e["actor"], e["details"].get("via")) for e in entries]
        assert ("login", "dev", "basic") in seen
        assert ("login.failed", "eve", "basic") in seen
        assert ("push", "dev", None) in seen
        tags = root.get("/manage/repositories/team/api/tags").json()["items"]
        assert [t["name"] for t in tags] == ["v1"]
    bearer = httpx.get(f"{htpasswd_site}/manage/me", headers={"Authorization": "Bearer x.y.z"})
    assert bearer.status_code == 401
    assert httpx.get(f"{htpasswd_site}{API}/me").status_code == 404  # moved by prefix


@pytest.fixture(scope="module")
def open_site() -> Iterator[str]:
    config = Config(
        storage=StorageConfig(driver="inmemory", delete_enabled=True),
        management={"enabled": True},  # type: ignore[arg-type]
    )
    with run_server(create_app(config)) as url:
        yield url


def test_without_auth_everyone_may_do_everything(open_site: str) -> None:
    with httpx.Client(base_url=open_site) as client:
        push_tagged(client, "anything/app", ["v1", "v2"], seed="open")
        listed = client.get(f"{API}/repositories").json()
        assert [(r["name"], r["tag_count"]) for r in listed["items"]] == [("anything/app", 2)]
        assert client.delete(f"{API}/repositories/anything/app/tags/v2").status_code == 204
        assert client.get(f"{API}/me").json()["system_admin"] is True
        users = client.get(f"{API}/users")
        assert users.status_code == 405 and users.json()["code"] == "UNSUPPORTED"
        entries = client.get(f"{API}/audit").json()["items"]
        assert [e["action"] for e in entries] == ["delete", "push", "push"]


def test_disabled_by_default(tmp_path: Path) -> None:
    config = Config(storage=StorageConfig(driver="inmemory"))
    app = create_app(config)
    assert app.state.management is None
    with run_server(app) as url:
        assert httpx.get(f"{url}{API}/openapi.json").status_code == 404
