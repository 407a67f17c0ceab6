"""A real server (uvicorn on 127.0.0.1) with the built-in token service, the rules of
``helpers`` and the management API with CORS for one origin, shared by a module; images
pushed over ``/v2/`` with tokens, as clients do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.config.model import Config, StorageConfig
from tests.management.helpers import PASSWORD, write_auth_files
from tests.support.server import run_server

SERVICE = "pyregistry-mgmt-test"
ORIGIN = "https://ui.example.test"


@dataclass
class Site:
    url: str
    root: Path
    rules: Path
    app: object

    def client(self, user: str | None = None, **kwargs: object) -> httpx.Client:
        auth = (user, PASSWORD) if user else None
        return httpx.Client(base_url=self.url, auth=auth, timeout=30, **kwargs)  # type: ignore[arg-type]

    def token(self, user: str, *scopes: str) -> str:
        params = (("service", SERVICE), *(("scope", s) for s in scopes))
        with self.client(user) as client:
            answer = client.get("/auth/token", params=params)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])


def site_config(root: Path) -> Config:
    users, rules = write_auth_files(root)
    issue = {
        "key": str(root / "token.key"),
        "certificate": str(root / "token.crt"),
        "users": str(users),
        "rules": str(rules),
        "expiration": "5m",
    }
    return Config(
        storage=StorageConfig(
            driver="filesystem",
            parameters={"rootdirectory": str(root / "data")},
            delete_enabled=True,
        ),
        auth={"token": {"service": SERVICE, "issuer": "mgmt-test", "issue": issue}},  # type: ignore[arg-type]
        management={"enabled": True, "cors": {"allowedorigins": [ORIGIN]}},  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("management")
    app = create_app(site_config(root))
    with run_server(app) as url:
        yield Site(url, root, root / "rules.yaml", app)
