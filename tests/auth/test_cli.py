"""``pyregistry user …`` and ``pyregistry project …``: the files they write, and a running
registry picking the changes up without a restart."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
import yaml

from pyregistry import cli
from pyregistry.auth.htpasswd import Htpasswd, parse_htpasswd
from pyregistry.auth.rules import parse_rules
from tests.auth.conftest import ClientFactory, make_config


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """``pyregistry ARGV`` through the real command-line entry point."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdin", io.StringIO(stdin))
        mp.setattr("sys.stdout", out)
        mp.setattr("sys.stderr", err)
        status = cli.main(list(argv))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(config, htpasswd, rules): a config naming files that do not exist yet."""
    users, rules = tmp_path / "auth" / "htpasswd", tmp_path / "auth" / "rules.yml"
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "version": "0.1",
                "storage": {"inmemory": {}},
                "auth": {
                    "token": {
                        "service": "svc",
                        "issuer": "iss",
                        "issue": {
                            "key": str(tmp_path / "auth" / "key.pem"),
                            "users": str(users),
                            "rules": str(rules),
                        },
                    }
                },
            }
        )
    )
    return config, users, rules


def test_user_add_list_remove_through_the_config(paths) -> None:
    config, users, rules = paths
    status, out, _ = run(
        "user", "add", "alice", "-c", str(config), "--password-stdin", stdin="pw1\n"
    )
    assert (status, out.strip()) == (0, "added user alice")
    assert Htpasswd(str(users)).verify("alice", "pw1")
    assert parse_htpasswd(users.read_bytes())["alice"].startswith("$2b$10$")
    assert users.stat().st_mode & 0o777 == 0o600
    run("user", "add", "root", "-c", str(config), "--admin", "-p", "pw2")
    assert parse_rules(rules.read_bytes()).admins == {"root"}
    status, out, _ = run("user", "add", "alice", "-c", str(config), "--password-stdin", stdin="pw3")
    assert out.strip() == "updated user alice"
    assert Htpasswd(str(users)).verify("alice", "pw3")
    run("project", "create", "team", "-c", str(config))
    run("project", "add-member", "team", "alice", "developer", "-c", str(config))
    _, listing, _ = run("user", "list", "-c", str(config))
    assert listing.splitlines() == ["alice  team:developer", "root admin"]
    assert run("user", "remove", "alice", "-c", str(config))[0] == 0
    assert "alice" not in parse_htpasswd(users.read_bytes())
    assert parse_rules(rules.read_bytes()).projects["team"].members == {}
    status, _, err = run("user", "remove", "alice", "-c", str(config))
    assert status == 1 and "no user 'alice'" in err


def test_project_commands(paths) -> None:
    config, users, rules = paths
    c = ("-c", str(config))
    run("user", "add", "bob", *c, "-p", "x")
    assert run("project", "create", "team", *c)[0] == 0
    assert (
        run("project", "create", "pub", "--public", *c)[1].strip() == "created public project pub"
    )
    assert run("project", "create", "team", *c)[0] == 1
    assert run("project", "create", "Bad_Name", *c)[0] == 1
    assert run("project", "add-member", "team", "bob", "maintainer", *c)[0] == 0
    status, _, err = run("project", "add-member", "team", "ghost", "guest", *c)
    assert status == 1 and "no user 'ghost'" in err
    assert run("project", "add-member", "team", "ghost", "guest", "--force", *c)[0] == 0
    assert run("project", "add-member", "nope", "bob", "guest", *c)[0] == 1
    assert run("project", "set-public", "team", "true", *c)[0] == 0
    assert run("project", "set-public", "team", "maybe", *c)[0] == 1
    assert run("project", "remove-member", "team", "ghost", *c)[0] == 0
    assert run("project", "remove-member", "team", "ghost", *c)[0] == 1
    _, listing, _ = run("project", "list", *c)
    assert listing.splitlines() == ["pub\tpublic\t", "team\tpublic\tbob:maintainer"]
    document = yaml.safe_load(rules.read_text())
    assert document["projects"]["team"] == {"public": True, "members": {"bob": "maintainer"}}


def test_role_must_be_known(paths) -> None:
    config, _, _ = paths
    status, _, err = run("project", "add-member", "team", "bob", "owner", "-c", str(config))
    assert status == 2
    assert "owner" in err


def test_explicit_paths_without_config(tmp_path: Path) -> None:
    users, rules = tmp_path / "h", tmp_path / "r.yml"
    assert run("user", "add", "x", "--htpasswd", str(users), "-p", "y")[0] == 0
    assert run("project", "create", "p", "--rules", str(rules))[0] == 0
    status, _, err = run("project", "list")
    assert status == 1 and "no rules file" in err


def test_password_is_required(paths) -> None:
    config, _, _ = paths
    status, _, err = run("user", "add", "alice", "-c", str(config), "--password-stdin", stdin="")
    assert status == 1 and "empty password" in err


def test_running_registry_sees_cli_changes(tmp_path: Path, client_for: ClientFactory) -> None:
    users, rules = tmp_path / "htpasswd", tmp_path / "rules.yml"
    run("user", "add", "dev", "--htpasswd", str(users), "-p", "secret")
    run("project", "create", "team", "--rules", str(rules))
    client = client_for(
        make_config(
            {"htpasswd": {"realm": "R", "path": str(users), "rules": str(rules)}},
        )
    )
    auth = {"Authorization": "Basic " + base64.b64encode(b"dev:secret").decode()}
    assert client.put("/v2/team/app/manifests/v1", headers=auth).status_code == 403
    run("project", "add-member", "team", "dev", "developer", "--rules", str(rules))
    assert client.put("/v2/team/app/manifests/v1", headers=auth).status_code == 200
    assert client.get("/v2/team/app/tags/list").status_code == 401
    run("project", "set-public", "team", "true", "--rules", str(rules))
    assert client.get("/v2/team/app/tags/list").status_code == 200
    run("user", "remove", "dev", "--htpasswd", str(users), "--rules", str(rules))
    assert client.put("/v2/team/app/manifests/v1", headers=auth).status_code == 401
