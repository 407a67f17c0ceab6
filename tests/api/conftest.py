"""Fixtures for the API tests: an app per test (TestClient); the real servers (httpx) come
from ``tests.support.server``, a root plugin."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx is what the project ships.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from pyregistry.app import create_app
from tests.support.server import inmemory_config


@pytest.fixture
def app() -> Starlette:
    return create_app(inmemory_config())


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


class _ErrorRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """Fails any test during which the API logged an error (a 500) or uvicorn saw an
    exception escape the app. A test that provokes one on purpose clears the list."""
    recorder = _ErrorRecorder()
    loggers = [logging.getLogger("pyregistry"), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(recorder)
    try:
        yield recorder.records
    finally:
        for logger in loggers:
            logger.removeHandler(recorder)
    messages = [r.getMessage() for r in recorder.records]
    assert not messages, f"server-side errors during the test: {messages}"
