"""Fixtures for the auth tests: a test PKI, configurations, apps behind the middleware."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pyregistry.config.model import typed_section

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx is what the project ships.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient as TestClient  # re-exported for the tests

from pyregistry.auth import wrap_app
from pyregistry.auth.access import AuthResult
from pyregistry.auth.htpasswd import set_user
from pyregistry.config.model import Config, StorageConfig
from tests.auth.pki import ISSUER, SERVICE, Pki

REALM = "https://auth.example.test/token"


def make_config(auth: dict[str, Any], **http: Any) -> Config:
    config = Config(
        storage=StorageConfig(driver="inmemory", delete_enabled=True),
        auth=typed_section("auth", auth),
    )
    for key, value in http.items():
        setattr(config.http, key, value)
    return config


async def _echo(request: Request) -> JSONResponse:
    """Stands in for the registry API: reports what auth decided."""
    result = request.scope.get("state", {}).get("auth")
    if result is None:  # a path the middleware passed on without a decision
        return JSONResponse({"passed_through": True})
    assert isinstance(result, AuthResult), "the middleware must put an AuthResult in state"
    probe = request.query_params.get("can")
    body: dict[str, Any] = {"actor": result.actor, "method": result.method}
    if probe:
        rtype, name, action = probe.split("|")
        body["can"] = result.can(rtype, name, action)
    body["global_pull"] = result.global_pull
    return JSONResponse(body)


def echo_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/{path:path}", _echo, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        ]
    )


@pytest.fixture(scope="session")
def pki() -> Pki:
    return Pki.create()


@pytest.fixture
def bundle(pki: Pki, tmp_path: Path) -> Path:
    path = tmp_path / "bundle.pem"
    path.write_bytes(pki.bundle())
    return path


def token_auth(bundle: Path, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "realm": REALM,
        "service": SERVICE,
        "issuer": ISSUER,
        "rootcertbundle": str(bundle),
    }
    options.update(extra)
    return {"token": options}


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def client_for() -> Iterator[ClientFactory]:
    """``client_for(config)``: a TestClient on the echo app behind auth for ``config``."""
    clients: list[TestClient] = []

    def make(config: Config, app: Any = None) -> TestClient:
        client = TestClient(wrap_app(app or echo_app(), config), raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def token_client(bundle: Path, client_for: ClientFactory) -> TestClient:
    """The echo app behind ``auth.token`` trusting the test PKI's root."""
    return client_for(make_config(token_auth(bundle)))


# --- the built-in token service ------------------------------------------------------

USERS = {
    "alice": "alice-pw",
    "bob": "bob-pw",
    "carol": "carol-pw",
    "root": "root-pw",
    "eve": "eve-pw",
}
RULES = """\
admins: [root]
projects:
  team:
    members: {alice: developer, bob: guest, carol: maintainer}
  public:
    public: true
    members: {alice: admin}
"""
ISSUE_SERVICE = "pyregistry-test"
ISSUE_ISSUER = "pyregistry-test-issuer"


@dataclass(frozen=True)
class IssuerFiles:
    users: Path
    rules: Path
    key: Path
    certificate: Path


@pytest.fixture(scope="module")
def issuer_files(tmp_path_factory: pytest.TempPathFactory) -> IssuerFiles:
    """htpasswd with five users, rules with two projects; the signing key and certificate
    paths do not exist yet: the first start generates them."""
    root = tmp_path_factory.mktemp("issuer")
    users = root / "htpasswd"
    for name, password in USERS.items():
        set_user(str(users), name, password)
    rules = root / "rules.yml"
    rules.write_text(RULES)
    return IssuerFiles(users, rules, root / "token.key", root / "token.crt")


def issuer_config(files: IssuerFiles, **token: Any) -> Config:
    issue: dict[str, Any] = {
        "key": str(files.key),
        "certificate": str(files.certificate),
        "users": str(files.users),
        "rules": str(files.rules),
        "expiration": "5m",
    }
    issue.update(token.pop("issue", {}))
    options: dict[str, Any] = {"service": ISSUE_SERVICE, "issuer": ISSUE_ISSUER, "issue": issue}
    options.update(token)
    return make_config({"token": options})
