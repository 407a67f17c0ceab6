"""The ``ui`` section: off by default, mounted under its prefix (``/`` too, the API keeping
``/v2`` and ``/`` staying distribution's health probe), a prefix that would sit inside the
API refused at start-up, the session cookie's flags following the settings, and logins
with htpasswd auth as with the token service."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

import pyregistry
from pyregistry.config import ConfigError
from pyregistry.embedding import config_from_mapping
from pyregistry.ui.settings import public_host, ui_settings


def test_the_ui_is_off_unless_enabled() -> None:
    with pyregistry.serve() as registry:
        answer = httpx.get(registry.url + "/ui/login")
        assert answer.status_code == 404
        assert answer.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_the_ui_at_the_root_leaves_the_api_where_it_is() -> None:
    config = {"ui": {"enabled": True, "prefix": "/"}, "http": {"secret": "k"}}
    with pyregistry.serve(config) as registry:
        probe = httpx.get(registry.url + "/")  # distribution's health probe, as before
        assert (probe.status_code, probe.text) == (200, "")
        listing = httpx.get(registry.url + "/repositories")
        assert listing.status_code == 200
        assert "Repositories" in listing.text
        assert httpx.get(registry.url + "/v2/").status_code == 200
        cookie = listing.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/;" in cookie


@pytest.mark.parametrize(
    ("http", "prefix"),
    [({}, "ui"), ({}, "/v2/ui"), ({}, "/v2"), ({"prefix": "/reg"}, "/reg/v2/x"), ({}, "/a/../b")],
)
def test_a_prefix_the_ui_could_not_answer_under_is_refused(
    http: dict[str, str], prefix: str
) -> None:
    config = config_from_mapping(
        {"storage": {"inmemory": {}}, "http": http, "ui": {"enabled": True, "prefix": prefix}}
    )
    with pytest.raises(ConfigError) as refused:
        ui_settings(config)
    assert "ui.prefix" in str(refused.value)


def test_without_a_secret_the_token_signing_key_signs_sessions(tmp_path: Path) -> None:
    """Every worker and instance reads the same signing key, so they agree on sessions."""
    key = tmp_path / "token.key"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot parsed here\n")
    document = {
        "storage": {"inmemory": {}},
        "ui": {"enabled": True},
        "auth": {
            "token": {
                "service": "s",
                "issuer": "i",
                "issue": {"key": str(key), "users": str(tmp_path / "htpasswd")},
            }
        },
    }
    first, second = (ui_settings(config_from_mapping(document)) for _ in range(2))
    assert first.secret == second.secret
    key.write_bytes(b"another key")
    assert ui_settings(config_from_mapping(document)).secret != first.secret


def test_cookie_flags_and_public_host_follow_the_settings() -> None:
    plain = config_from_mapping({"storage": {"inmemory": {}}, "ui": {"enabled": True}})
    settings = ui_settings(plain)
    assert (settings.prefix, settings.secure_cookie, settings.public_host) == ("/ui", False, None)
    assert len(settings.secret) >= 32  # random, with a warning
    behind_tls = config_from_mapping(
        {
            "storage": {"inmemory": {}},
            "http": {"host": "https://registry.example.com/", "secret": "from-http"},
            "ui": {"enabled": True, "sessiontimeout": "30m"},
        }
    )
    settings = ui_settings(behind_tls)
    assert settings.secure_cookie is True
    assert settings.secret == "from-http"
    assert settings.session_seconds == 1800
    assert public_host(behind_tls) == "registry.example.com"


def test_htpasswd_users_log_in_too() -> None:
    config = {"ui": {"enabled": True}, "http": {"secret": "k"}, "auth": {"htpasswd": {}}}
    with (
        pyregistry.serve(config, credentials=("ann", "ann-pw-1")) as registry,
        httpx.Client(base_url=registry.url) as client,
    ):
        assert "Log in" in client.get("/ui/repositories").text
        login = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "username": "ann", "password": "ann-pw-1"}
        assert client.post("/ui/login", data=form).status_code == 303
        page = client.get("/ui/repositories")
        assert 'data-testid="user">ann' in page.text
