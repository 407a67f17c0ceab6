"""A filesystem registry whose listings the metadata index answers (TestClient)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from pyregistry.app import create_app
from pyregistry.index import IndexService
from tests.index.helpers import index_directory, wait_until
from tests.support.server import filesystem_config


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def app(root: Path) -> Starlette:
    return create_app(filesystem_config(root))


@pytest.fixture
def client(app: Starlette, root: Path) -> Iterator[TestClient]:
    """A client on a registry whose (fresh) index has been built."""
    with TestClient(app, raise_server_exceptions=True) as test_client:
        assert test_client.get("/v2/_catalog").status_code == 200  # first use: build
        wait_until(index_directory(root), "ready")
        yield test_client


@pytest.fixture
def index(app: Starlette) -> IndexService:
    found = app.state.registry.index
    assert isinstance(found, IndexService)
    return found
