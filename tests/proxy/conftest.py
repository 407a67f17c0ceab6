"""Upstreams and mirrors for the pull-through cache tests, all real and on 127.0.0.1:
distribution 2.8 behind htpasswd (Basic), pyregistry with its token service (Bearer),
and pyregistry mirrors configured through the same config document users write."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import pyregistry
from pyregistry import EmbeddedRegistry
from pyregistry.app import create_app
from pyregistry.auth.htpasswd import set_user
from pyregistry.embedding.options import config_from_mapping
from tests.client.proxy import TcpProxy
from tests.support.distribution import DistributionRegistry, run_distribution
from tests.support.server import run_server

USER = ("puller", "upstream-secret")

MirrorFactory = Callable[..., str]


@pytest.fixture(scope="module")
def htpasswd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("upstream-users") / "htpasswd"
    set_user(str(path), *USER)
    return path


def distribution_with_users(
    htpasswd: Path, root: Path | None = None
) -> contextlib.AbstractContextManager[DistributionRegistry]:
    """distribution 2.8 asking for Basic credentials (htpasswd, bcrypt), storing under
    ``root`` (a temporary one when None)."""
    auth = {"auth": {"htpasswd": {"realm": "upstream", "path": str(htpasswd)}}}
    return run_distribution(root, options=auth)


@pytest.fixture
def basic_upstream(htpasswd: Path) -> Iterator[DistributionRegistry]:
    """A fresh distribution 2.8 upstream with htpasswd (it can be stopped by a test)."""
    with distribution_with_users(htpasswd) as registry:
        yield registry


@pytest.fixture(scope="module")
def token_upstream(tmp_path_factory: pytest.TempPathFactory, htpasswd: Path) -> Iterator[Any]:
    """pyregistry with its built-in token service: anonymous pulls get Bearer tokens."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_path = tmp_path_factory.mktemp("token") / "key.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    auth = {
        "token": {
            "service": "upstream",
            "issuer": "upstream-issuer",
            "issue": {"key": str(key_path), "users": str(htpasswd)},
        }
    }
    registry: EmbeddedRegistry
    with pyregistry.serve(auth=auth, credentials=USER) as registry:
        yield registry


@pytest.fixture
def start_mirror(tmp_path: Path) -> Iterator[MirrorFactory]:
    """``start_mirror(proxy=..., mirrors=...)``: a pyregistry mirror on filesystem
    storage (a fresh root per test unless ``root`` is given); its base URL. A mirror
    whose upstream is cut mid-blob aborts that response by raising, which the server
    watch would report: such tests pass ``allow_server_errors``."""
    started: list[int] = []
    with contextlib.ExitStack() as stack:

        def start(
            root: Path | None = None,
            *,
            allow_server_errors: bool = False,
            event_sink: Any = None,
            **sections: Mapping[str, Any] | list[Any],
        ) -> str:
            started.append(1)
            storage = root or tmp_path / f"mirror-{len(started)}"
            document: dict[str, Any] = {
                "storage": {
                    "filesystem": {"rootdirectory": str(storage)},
                    "delete": {"enabled": True},
                },
                **sections,
            }
            app = create_app(config_from_mapping(document), event_sink=event_sink)
            return stack.enter_context(run_server(app, allow_server_errors=allow_server_errors))

        yield start


@pytest.fixture
def relay() -> Iterator[TcpProxy]:
    """A TCP relay between the mirror and its upstream: it records the upstream's
    requests and can be pointed at a restarted upstream."""
    proxy = TcpProxy("http://127.0.0.1:9")  # pointed at the real upstream by each test
    proxy.start()
    yield proxy
    proxy.stop()


def point_relay(relay: TcpProxy, url: str) -> None:
    relay.upstream = ("127.0.0.1", int(url.rsplit(":", 1)[1]))
