"""The section classes are the one description of the configuration: the shape the loader
checks and the typed values both come from their fields."""

from __future__ import annotations

import pytest

from pyregistry.config import ConfigError, config_from_document
from pyregistry.config.declare import build, shape_of
from pyregistry.config.model import SCHEMA, Config, RedisConfig
from pyregistry.config.schema import Struct


def test_both_redis_spellings_fill_the_same_fields() -> None:
    old = {"addr": "h:1", "pool": {"maxactive": 7, "maxidle": 2, "idletimeout": "30s"}}
    new = {"addrs": ["h:1"], "poolsize": 7, "maxidleconns": 2, "connmaxidletime": "30s"}
    for written in (old, new):
        redis = build(RedisConfig, written)
        assert (redis.addrs, redis.pool_maxactive, redis.pool_maxidle) == (["h:1"], 7, 2)
        assert redis.pool_idletimeout_seconds == 30.0


def test_the_shape_is_derived_from_the_fields() -> None:
    redis = shape_of(RedisConfig)
    pool = redis.fields["pool"]
    assert isinstance(pool, Struct) and set(pool.fields) == {"maxidle", "maxactive", "idletimeout"}
    assert SCHEMA.fields["redis"] is redis
    notifications = SCHEMA.fields["notifications"]
    assert isinstance(notifications, Struct)
    assert notifications.env_names == {"EVENTCONFIG": "events"}  # REGISTRY_*_EVENTCONFIG_*


def test_durations_are_seconds_and_defaults_fill_the_rest() -> None:
    config = config_from_document(
        {
            "version": "0.1",
            "storage": {"inmemory": None, "maintenance": {"uploadpurging": {"age": "2h"}}},
            "notifications": {"endpoints": [{"name": "a", "url": "http://h/", "backoff": "1m"}]},
        }
    )
    assert config.storage.uploadpurging_age_seconds == 7200.0
    assert config.storage.uploadpurging_interval_seconds == 24 * 3600.0
    (endpoint,) = config.notifications.endpoints
    assert (endpoint.backoff, endpoint.timeout, endpoint.threshold) == (60.0, 0.0, 0)


def test_a_section_given_in_code_is_checked_like_a_file() -> None:
    # a mapping in place of a section is accepted on purpose: the type says section
    config = Config(catalog={"maxentries": 5}, index={"enabled": False})  # type: ignore[arg-type]
    assert config.catalog.maxentries == 5 and config.index.enabled is False
    with pytest.raises(ConfigError) as caught:
        Config(catalog={"maxentrys": 5})  # type: ignore[arg-type]
    assert caught.value.key == "catalog.maxentrys"
    assert "did you mean 'maxentries'" in caught.value.message


def test_a_section_reads_as_written_and_rereads_when_changed() -> None:
    config = Config(notifications={"endpoints": [], "queue": {"directory": "/q"}})  # type: ignore[arg-type]
    assert config.notifications["queue"] == {"directory": "/q"}
    assert config.notifications.queue_directory == "/q"
    config.notifications.pop("queue")
    assert config.notifications.queue_directory is None
    assert config.notifications == {"endpoints": []}
