"""Configuration errors at start-up, the scope grammar, rules parsing, ``auth.silly``,
``auth: none`` and the API access hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from pyregistry.api.context import RequestContext
from pyregistry.auth import access_hook, build_auth, token_routes, wrap_app
from pyregistry.auth.access import AllowAll, AuthResult
from pyregistry.auth.rules import parse_rules
from pyregistry.auth.scopes import ScopeError, parse_scope, parse_scopes
from pyregistry.config import ConfigError
from tests.auth.conftest import ClientFactory, echo_app, make_config, token_auth


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repository:samalba/my-app:pull,push", ("repository", "samalba/my-app", ("pull", "push"))),
        ("repository:host:5000/a/b:pull", ("repository", "host:5000/a/b", ("pull",))),
        ("repository:reg.example.com/x:*", ("repository", "reg.example.com/x", ("*",))),
        ("registry:catalog:*", ("registry", "catalog", ("*",))),
        ("repository(plugin):a/b:pull", ("repository(plugin)", "a/b", ("pull",))),
        ("repository:a:", ("repository", "a", ())),
        ("repository:a__b.c-d:pull,pull", ("repository", "a__b.c-d", ("pull",))),
    ],
)
def test_scope_grammar(text: str, expected: tuple[Any, ...]) -> None:
    scope = parse_scope(text)
    assert (scope.type, scope.name, scope.actions) == expected


@pytest.mark.parametrize(
    "text",
    [
        "repository",
        "repository:a",
        "Repository:a:pull",
        "repository:A:pull",
        "repository:a:PULL",
        "repository::pull",
        "repository:a/:pull",
        "repository:-a:pull",
        "repo(x:a:pull",
    ],
)
def test_scope_grammar_rejects(text: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(text)


def test_scopes_space_separated() -> None:
    scopes = parse_scopes(["repository:a:pull repository:b:push", "registry:catalog:*"])
    assert [s.name for s in scopes] == ["a", "b", "catalog"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"projects: {team: {members: {a: owner}}}", "unknown role 'owner'"),
        (b"projects: {Team: {}}", "invalid project name"),
        (b"projects: {team: {public: maybe}}", "public must be true or false"),
        (b"admins: root", "admins must be a list"),
        (b"users: []", "unknown keys"),
        (b"- a list", "must be a mapping"),
        (b"{", "not YAML"),
    ],
)
def test_rules_errors(text: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rules(text)


def test_rules_empty_file_is_no_projects() -> None:
    rules = parse_rules(b"")
    assert rules.projects == {} and rules.admins == set()


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"service": "s", "issuer": "i", "rootcertbundle": "/x"}, "auth.token.realm"),
        ({"realm": "r", "issuer": "i", "rootcertbundle": "/x"}, "auth.token.service"),
        ({"realm": "r", "service": "s", "rootcertbundle": "/x"}, "auth.token.issuer"),
        ({"realm": "r", "service": "s", "issuer": "i"}, "auth.token"),
        (
            {"realm": "r", "service": "s", "issuer": "i", "rootcertbundle": "/nonexistent"},
            "auth.token.rootcertbundle",
        ),
        ({"realm": "r", "service": "s", "issuer": "i", "jwks": "/nonexistent"}, "auth.token.jwks"),
        (
            {
                "realm": "r",
                "service": "s",
                "issuer": "i",
                "rootcertbundle": "/x",
                "signingalgorithms": ["none"],
            },
            "auth.token.signingalgorithms",
        ),
        (
            {
                "realm": "r",
                "service": "s",
                "issuer": "i",
                "rootcertbundle": "/x",
                "autoredirect": "sometimes",
            },
            "auth.token.autoredirect",
        ),
        ({"service": "s", "issuer": "i", "issue": {"users": "/u"}}, "auth.token.issue.key"),
        (
            {
                "service": "s",
                "issuer": "i",
                "issue": {"key": "/k", "users": "/u", "expiration": "10s"},
            },
            "auth.token.issue.expiration",
        ),
    ],
)
def test_token_config_errors(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_auth(make_config({"token": options}))
    assert info.value.key == key, str(info.value)


def test_bundle_without_certificates(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(ConfigError, match="at least one token signing key"):
        build_auth(make_config(token_auth(empty)))


def test_invalid_jwks(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]}')
    options = {"realm": "r", "service": "s", "issuer": "i", "jwks": str(jwks)}
    with pytest.raises(ConfigError, match="failed to parse jwks"):
        build_auth(make_config({"token": options}))


def test_issuer_key_must_fit_signingalgorithms(tmp_path: Path) -> None:
    options = {
        "service": "s",
        "issuer": "i",
        "signingalgorithms": ["RS256"],
        "issue": {"key": str(tmp_path / "k.pem"), "users": str(tmp_path / "h")},
    }
    with pytest.raises(ConfigError, match="ES256"):
        build_auth(make_config({"token": options}))


def test_two_providers_and_unknown_provider() -> None:
    with pytest.raises(ConfigError, match="only one auth provider"):
        build_auth(make_config({"htpasswd": {}, "silly": {}}))
    with pytest.raises(ConfigError, match="unknown auth provider"):
        build_auth(make_config({"ldap": {}}))


def test_no_auth_and_none_leave_the_app_alone() -> None:
    app = echo_app()
    assert build_auth(make_config({})) is None
    assert wrap_app(app, make_config({})) is app
    assert wrap_app(app, make_config({"none": {}})) is app
    assert token_routes(make_config({})) == []


def test_silly(client_for: ClientFactory) -> None:
    client = client_for(make_config({"silly": {"realm": "https://r", "service": "svc"}}))
    refused = client.get("/v2/a/tags/list")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="https://r",service="svc",scope="repository:a:pull"'
    )
    ok = client.get("/v2/a/tags/list", headers={"Authorization": "anything"})
    assert ok.status_code == 200 and ok.json()["actor"] == "silly"


def _request(result: AuthResult | None) -> Request:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": []}
    if result is not None:
        scope["state"] = {"auth": result}
    return Request(scope)


async def test_access_hook() -> None:
    ctx = RequestContext(request_id="1", method="POST", endpoint="upload_start", repository="a")
    await access_hook(_request(AuthResult(actor="alice", method="token")), ctx)
    assert ctx.actor == "alice"
    assert ctx.allow_global_mount is False
    assert ctx.extras["auth"].method == "token"

    admin = RequestContext(request_id="2", method="POST", endpoint="upload_start", repository="a")
    result = AuthResult(actor="root", method="htpasswd", grants=AllowAll(), global_pull=True)
    await access_hook(_request(result), admin)
    assert admin.allow_global_mount is True and admin.actor == "root"

    open_registry = RequestContext(request_id="3", method="GET", endpoint="base")
    await access_hook(_request(None), open_registry)
    assert open_registry.actor is None and open_registry.allow_global_mount is True


def test_token_routes_serve_tokens(tmp_path: Path) -> None:
    from starlette.applications import Starlette

    from tests.auth.conftest import TestClient

    config = make_config(
        {
            "token": {
                "service": "svc",
                "issuer": "iss",
                "issue": {
                    "key": str(tmp_path / "key.pem"),
                    "users": str(tmp_path / "htpasswd"),
                    "path": "/token",
                },
            }
        }
    )
    routes = token_routes(config)
    assert [r.path for r in routes] == ["/token"]
    with TestClient(Starlette(routes=routes)) as client:
        body = client.get("/token", params={"service": "svc"}).json()
        assert body["token"].count(".") == 2
