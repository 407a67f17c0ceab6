"""Registries for the client tests, all real and on loopback: pyregistry with its
built-in token service (Bearer), pyregistry with htpasswd (Basic), pyregistry without
auth, and a recording proxy in front of any of them. distribution 2.8 comes from
``tests.support.distribution``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import pyregistry
from pyregistry import EmbeddedRegistry
from pyregistry.auth.htpasswd import set_user
from tests.client.proxy import TcpProxy

USER = ("alice", "wonderland")
SERVICE = "client-tests"


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "htpasswd"
    set_user(str(path), *USER)
    return path


@pytest.fixture(scope="module")
def token_auth(tmp_path_factory: pytest.TempPathFactory, users: Path) -> dict[str, Any]:
    """``auth.token`` with the built-in token service: a signing key and one user."""
    key_path = tmp_path_factory.mktemp("token") / "key.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {
        "token": {
            "service": SERVICE,
            "issuer": "client-tests-issuer",
            "issue": {"key": str(key_path), "users": str(users)},
        }
    }


@pytest.fixture(scope="module")
def token_registry(token_auth: dict[str, Any]) -> Iterator[EmbeddedRegistry]:
    """pyregistry behind Bearer tokens from its own token service."""
    with pyregistry.serve(auth=token_auth) as registry:
        yield registry


@pytest.fixture(scope="module")
def basic_registry(users: Path) -> Iterator[EmbeddedRegistry]:
    """pyregistry behind HTTP Basic (htpasswd)."""
    with pyregistry.serve(auth={"htpasswd": {"realm": "client-tests", "path": str(users)}}) as reg:
        yield reg


@pytest.fixture(scope="module")
def open_registry() -> Iterator[EmbeddedRegistry]:
    """pyregistry without auth, on filesystem storage."""
    with pyregistry.serve(storage="filesystem") as registry:
        yield registry


@pytest.fixture
def proxy_to() -> Iterator[Callable[[str], TcpProxy]]:
    """``proxy_to(url)``: a recording, cuttable TCP proxy in front of ``url``."""
    proxies: list[TcpProxy] = []

    def start(url: str) -> TcpProxy:
        proxy = TcpProxy(url).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()
