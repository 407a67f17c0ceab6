"""One registry and one browser for all the UI tests (package scope).

The registry is a real one on 127.0.0.1 (``pyregistry.serve``: filesystem storage, so the
metadata index is on) with the built-in token service, the UI enabled and ``http.host``
set to a public name that does not resolve here (only the pull commands show it). Its
content is pushed first by a plain registry on the same storage (clients following the
public name's URLs could not push), then storage is measured as the online garbage
collector does after each run (the sizes on the pages), and it holds these users and
roles (the rules file, as ``pyregistry project`` writes it):

* ``root``: system admin;
* ``pat``: admin of ``team``; ``maya``: maintainer of ``team``; ``gus``: guest of ``team``;
* ``library`` is public, ``team`` and ``secret`` are private.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import pyregistry
from pyregistry.auth.htpasswd import set_user
from pyregistry.embedding import EmbeddedRegistry
from pyregistry.usage import gauges
from storage_drivers import create_driver
from tests.ui.browser import SCREENSHOTS, launch, taken

PUBLIC_HOST = "registry.example.com"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
PASSWORDS = {"root": "root-pw-1", "pat": "pat-pw-1", "maya": "maya-pw-1", "gus": "gus-pw-1"}
RULES = """\
admins: [root]
projects:
  library: {public: true, members: {}}
  team: {public: false, members: {pat: admin, maya: maintainer, gus: guest}}
  secret: {public: false, members: {}}
"""


@dataclass
class Site:
    """The running registry, what was pushed into it, and the rules file."""

    registry: EmbeddedRegistry
    rules: Path
    users: Path
    digests: dict[str, str] = field(default_factory=dict)

    def url(self, path: str = "/") -> str:
        return f"{self.registry.url}/ui{path}"


def push_labelled_image(registry: EmbeddedRegistry, repository: str, tag: str) -> str:
    """An image whose config carries labels (as ``LABEL`` in a Dockerfile makes them)."""
    layer = b"a layer that is not a tarball: the registry does not look inside"
    config = json.dumps(
        {
            "architecture": "arm64",
            "os": "linux",
            "config": {"Labels": {"org.opencontainers.image.source": "https://example.com/app"}},
            "rootfs": {"type": "layers", "diff_ids": [digest_of(layer)]},
            "history": [{"created_by": "COPY app /app"}],
        }
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)}],
    }
    for blob in (layer, config):
        registry.push_blob(repository, blob)
    return registry.push_manifest(repository, tag, json.dumps(manifest).encode(), OCI_MANIFEST)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def fill(registry: EmbeddedRegistry) -> dict[str, str]:
    """The content the tests browse: name -> manifest digest."""
    digests = {
        "library/alpine:3.19": registry.push_random_index("library/alpine", "3.19", seed="alp"),
        "team/app:v1": push_labelled_image(registry, "team/app", "v1"),
        "team/app:v2": registry.push_random_image("team/app", "v2", seed="app2", layers=3),
        "team/tools:1.0": registry.push_random_image("team/tools", "1.0", seed="tools"),
        "secret/db:1.0": registry.push_random_image("secret/db", "1.0", seed="db"),
    }
    digests["team/app:v2 signature"] = registry.push_artifact(
        "team/app",
        "application/vnd.example.signature",
        [b"signed"],
        subject="v2",
        annotations={"org.example.signer": "ci"},
    )
    return digests


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    files = tmp_path_factory.mktemp("ui-auth")
    users = files / "htpasswd"
    for user, password in PASSWORDS.items():
        set_user(str(users), user, password)
    rules = files / "rules.yml"
    rules.write_text(RULES)
    document: dict[str, Any] = {
        "http": {"host": PUBLIC_HOST, "secret": "ui-tests-session-key"},
        "ui": {"enabled": True},
        "auth": {
            "token": {
                "service": "pyregistry",
                "issuer": "pyregistry-tests",
                "issue": {"users": str(users), "rules": str(rules)},
            }
        },
    }
    storage = {"filesystem": {"rootdirectory": str(files / "data")}}
    with pyregistry.serve(storage=storage) as pusher:
        digests = fill(pusher)
    driver = create_driver("filesystem", storage["filesystem"])
    asyncio.run(gauges.refresh(driver))
    with pyregistry.serve(document, storage=storage) as registry:
        yield Site(registry, rules, users, digests)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if taken():
        terminalreporter.write_line(f"UI screenshots ({len(taken())}): {SCREENSHOTS}")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(browser: Any, site: Site, user: str, **options: Any) -> Any:
    """A fresh browser context (its own cookies) logged in as ``user``; its page."""
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(site.url("/login"))
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/**")
    return page
