"""``http.timeouts``, ``http.maxconnections`` and ``http.ratelimit``: read, defaulted, and
refused when they cannot work; also from the environment, as every key."""

from __future__ import annotations

from typing import Any

import pytest

from pyregistry.config import ConfigError
from pyregistry.config.loader import config_from_document, load_config
from pyregistry.connections.limits import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    default_max_connections,
    limits_from_config,
)


def _http(http: dict[str, Any]) -> Any:
    return config_from_document({"version": "0.1", "storage": {"inmemory": None}, "http": http})


def test_keys_are_read() -> None:
    config = _http(
        {
            "timeouts": {"header": "5s", "idle": "2m"},
            "maxconnections": 100,
            "ratelimit": {"rate": 10, "methods": [{"method": "get", "rate": 3}]},
        }
    )
    limits = limits_from_config(config.http)
    assert (limits.header_timeout, limits.idle_timeout, limits.max_connections) == (5, 120, 100)
    assert config.http.ratelimit_rate == 10
    assert config.http.ratelimit_methods == {"GET": 3}


def test_defaults_follow_the_open_file_limit() -> None:
    limits = limits_from_config(_http({}).http)
    assert limits.header_timeout == DEFAULT_HEADER_TIMEOUT
    assert limits.idle_timeout == DEFAULT_IDLE_TIMEOUT
    assert limits.max_connections > 0
    assert default_max_connections(1024) == 768
    assert default_max_connections(100) == 36  # at least 64 descriptors of headroom


@pytest.mark.parametrize(
    ("http", "key"),
    [
        ({"ratelimit": {"rate": 0}}, "http.ratelimit.rate"),
        ({"ratelimit": {"methods": [{"method": "GET", "rate": -1}]}}, "http.ratelimit.methods"),
        ({"ratelimit": {"methods": [{"method": "GET"}]}}, "http.ratelimit.methods[0].rate"),
        ({"maxconnections": 0}, "http.maxconnections"),
        ({"timeouts": {"header": "soon"}}, "http.timeouts.header"),
        ({"timeouts": {"heder": "1s"}}, "http.timeouts.heder"),
    ],
)
def test_unworkable_values_are_refused(http: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        _http(http)


def test_environment_overrides() -> None:
    env = {"REGISTRY_HTTP_TIMEOUTS_HEADER": "7s", "REGISTRY_HTTP_MAXCONNECTIONS": "50"}
    config = load_config(None, env)
    assert config.http.timeouts_header_seconds == 7
    assert config.http.maxconnections == 50
