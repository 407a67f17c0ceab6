"""``auth.htpasswd``: bcrypt entries as distribution reads them, re-read on change, Basic
challenges; and the ``rules`` extension (per-project roles with Basic auth)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import bcrypt
import pytest

from pyregistry.auth.htpasswd import Htpasswd, parse_htpasswd, remove_user, set_user
from pyregistry.config import ConfigError
from tests.auth.conftest import ClientFactory, make_config

REALM = "Registry Realm"
PATH = "/v2/team/app/manifests/latest"


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def users(tmp_path: Path) -> Path:
    path = tmp_path / "htpasswd"
    set_user(str(path), "alice", "wonderland")
    return path


@pytest.fixture
def client(users: Path, client_for: ClientFactory):
    return client_for(make_config({"htpasswd": {"realm": REALM, "path": str(users)}}))


def test_valid_credentials(client) -> None:
    response = client.get(PATH, headers=basic("alice", "wonderland"))
    assert response.status_code == 200
    assert response.json() == {"actor": "alice", "method": "htpasswd", "global_pull": True}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("alice", "wrong"),
        basic("nobody", "wonderland"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "garbage"},
    ],
)
def test_refused_with_basic_challenge(client, headers: dict[str, str]) -> None:
    response = client.get(PATH, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f'Basic realm="{REALM}"'
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_base_needs_credentials(client) -> None:
    assert client.get("/v2/").status_code == 401
    assert client.get("/v2/", headers=basic("alice", "wonderland")).status_code == 200


def test_file_is_reread_when_it_changes(client, users: Path) -> None:
    assert client.get(PATH, headers=basic("bob", "builder")).status_code == 401
    set_user(str(users), "bob", "builder")
    assert client.get(PATH, headers=basic("bob", "builder")).status_code == 200
    set_user(str(users), "alice", "new password")
    assert client.get(PATH, headers=basic("alice", "wonderland")).status_code == 401
    assert client.get(PATH, headers=basic("alice", "new password")).status_code == 200
    remove_user(str(users), "bob")
    assert client.get(PATH, headers=basic("bob", "builder")).status_code == 401


def test_apache_2y_hashes_are_accepted(tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$", 1)
    path = tmp_path / "htpasswd"
    path.write_text(f"# made by htpasswd -B\n\ncarol:{hashed}\n")
    checker = Htpasswd(str(path))
    assert checker.verify("carol", "secret")
    assert not checker.verify("carol", "Secret")


def test_only_credentials_verified_against_the_file_as_it_is_skip_bcrypt(tmp_path: Path) -> None:
    """``verified_already`` (asked on the event loop, no thread, no bcrypt) says yes only
    to a password checked before against the user's entry as the file still holds it."""
    path = tmp_path / "htpasswd"
    set_user(str(path), "erin", "first")
    checker = Htpasswd(str(path))
    assert not checker.verified_already("erin", "first")  # never read, never checked
    assert checker.verify("erin", "first")
    assert checker.verified_already("erin", "first")
    assert not checker.verified_already("erin", "First")
    assert not checker.verified_already("frank", "first")
    set_user(str(path), "erin", "second")  # the file changed: read it again first
    assert not checker.verified_already("erin", "first")
    assert not checker.verify("erin", "first")
    assert checker.verify("erin", "second")
    assert checker.verified_already("erin", "second")
    remove_user(str(path), "erin")
    assert not checker.verified_already("erin", "second")
    assert not checker.verify("erin", "second")


@pytest.mark.parametrize(
    "entry",
    [
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",  # htpasswd -s
        "$apr1$8g3Gz6wN$rtWbj4SbGs/tk5Zk8B6I6.",  # htpasswd -m
        "plaintext",
    ],
)
def test_other_hashes_are_refused_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, entry: str
) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(f"dave:{entry}\n")
    checker = Htpasswd(str(path))
    with caplog.at_level(logging.ERROR, logger="pyregistry.auth"):
        assert not checker.verify("dave", "password")
        assert not checker.verify("dave", "plaintext")
    messages = [r.getMessage() for r in caplog.records]
    assert any("'dave' is not a bcrypt hash" in m for m in messages), messages
    assert len(messages) == 1  # logged once, not per request


def test_parse_rejects_lines_without_colon() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_htpasswd(b"alice:$2y$x\njust-a-name\n")


def test_missing_file_is_created_with_a_random_docker_user(
    tmp_path: Path, client_for: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sub" / "htpasswd"
    with caplog.at_level(logging.WARNING, logger="pyregistry.auth"):
        client = client_for(make_config({"htpasswd": {"realm": REALM, "path": str(path)}}))
    assert list(parse_htpasswd(path.read_bytes())) == ["docker"]
    assert path.stat().st_mode & 0o777 == 0o600
    line = next(r.getMessage() for r in caplog.records if "was missing" in r.getMessage())
    password = line.rsplit(" ", 1)[-1]
    assert client.get(PATH, headers=basic("docker", password)).status_code == 200


def test_invalid_file_fails_at_start_up(tmp_path: Path, client_for: ClientFactory) -> None:
    path = tmp_path / "htpasswd"
    path.write_text("not a valid line\n")
    with pytest.raises(ConfigError, match="auth.htpasswd.path"):
        client_for(make_config({"htpasswd": {"realm": REALM, "path": str(path)}}))


def test_missing_options_are_config_errors(client_for: ClientFactory) -> None:
    with pytest.raises(ConfigError, match="auth.htpasswd.realm"):
        client_for(make_config({"htpasswd": {"path": "/nonexistent"}}))


# --- htpasswd + rules ---------------------------------------------------------------


@pytest.fixture
def rules_client(users: Path, tmp_path: Path, client_for: ClientFactory):
    set_user(str(users), "bob", "builder")
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "admins: [root]\n"
        "projects:\n"
        "  public:\n    public: true\n    members: {alice: developer}\n"
        "  team:\n    members: {alice: guest, bob: maintainer}\n"
    )
    config = make_config({"htpasswd": {"realm": REALM, "path": str(users), "rules": str(rules)}})
    return client_for(config)


def test_rules_anonymous_may_pull_public_only(rules_client) -> None:
    ok = rules_client.get("/v2/public/img/manifests/1")
    assert ok.status_code == 200 and ok.json()["actor"] is None
    refused = rules_client.put("/v2/public/img/manifests/1")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == f'Basic realm="{REALM}"'
    assert rules_client.get("/v2/team/img/manifests/1").status_code == 401
    assert rules_client.get("/v2/").status_code == 401


def test_rules_roles_decide_with_403(rules_client) -> None:
    alice, bob = basic("alice", "wonderland"), basic("bob", "builder")
    assert rules_client.get(PATH, headers=alice).status_code == 200
    denied = rules_client.put(PATH, headers=alice)
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "DENIED"
    assert "www-authenticate" not in denied.headers
    assert rules_client.delete(PATH, headers=bob).status_code == 200
    assert rules_client.put("/v2/public/img/manifests/1", headers=alice).status_code == 200
    assert rules_client.delete("/v2/public/img/manifests/1", headers=alice).status_code == 403
    assert rules_client.get("/v2/_catalog", headers=bob).status_code == 403
    assert rules_client.get("/v2/other/img/tags/list", headers=bob).status_code == 403
