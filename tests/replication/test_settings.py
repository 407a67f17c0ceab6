"""The ``replication`` section: what is refused with the key named, and what the
patterns and the destination naming do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pyregistry.config import ConfigError, load_config
from pyregistry.config.sections.replication import DestinationSettings, PatternSettings
from pyregistry.replication.origin import chain_of, extended, user_agent
from pyregistry.replication.policy import compile_policies
from pyregistry.replication.rules import Naming, NamingError, Patterns


def load(tmp_path: Path, replication: dict[str, Any]) -> Any:
    path = tmp_path / "config.yml"
    document = {"version": "0.1", "storage": {"inmemory": None}, "replication": replication}
    path.write_text(yaml.safe_dump(document))
    config = load_config(str(path))
    return compile_policies(config.replication, str(path))


TARGET = {"name": "t", "url": "http://127.0.0.1:5000"}


@pytest.mark.parametrize(
    ("replication", "key", "message"),
    [
        ({"targets": [TARGET], "policies": [{"name": "p", "target": "x"}]}, "target", "no target"),
        ({"targets": [TARGET], "policies": [{"name": "Bad Name", "target": "t"}]}, "name", "lower"),
        (
            {
                "targets": [TARGET],
                "policies": [{"name": "p", "target": "t", "direction": "sideways"}],
            },
            "direction",
            "",
        ),
        (
            {
                "targets": [TARGET],
                "policies": [
                    {"name": "p", "target": "t", "direction": "pull", "triggers": ["event"]}
                ],
            },
            "triggers",
            "pull",
        ),
        ({"targets": [{"name": "t", "url": "ftp://x"}], "policies": []}, "url", "http"),
        ({"targets": [TARGET, TARGET], "policies": []}, "name", "second target"),
        (
            {"targets": [TARGET], "policies": [{"name": "p", "target": "t", "bogus": 1}]},
            "bogus",
            "",
        ),
    ],
)
def test_bad_settings_name_their_key(
    tmp_path: Path, replication: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, replication)
    assert key in str(caught.value)
    assert message in str(caught.value)


def test_policy_defaults_follow_the_direction(tmp_path: Path) -> None:
    push, pull = load(
        tmp_path,
        {
            "targets": [TARGET],
            "policies": [
                {"name": "out", "target": "t"},
                {"name": "in", "target": "t", "direction": "pull"},
            ],
        },
    )
    assert (push.on_event, push.on_interval) == (True, False)
    assert (pull.on_event, pull.on_interval) == (False, True)


def test_patterns() -> None:
    patterns = Patterns.from_settings(
        PatternSettings(include=["team/*", "lib/**"], exclude=["team/tmp"])
    )
    assert patterns.matches("team/app")
    assert not patterns.matches("team/a/b")
    assert patterns.matches("lib/a/b/c")
    assert not patterns.matches("team/tmp")
    assert not patterns.matches("other/app")
    tags = Patterns.from_settings(PatternSettings(include=["v{1,2}.*"]))
    assert tags.matches("v1.0") and not tags.matches("v3.0")


def test_naming() -> None:
    keep = Naming.from_settings(DestinationSettings())
    assert keep.destination("a/b") == "a/b"
    add = Naming.from_settings(DestinationSettings(naming="add-prefix", prefix="hq"))
    assert add.destination("a/b") == "hq/a/b"
    strip = Naming.from_settings(DestinationSettings(naming="strip-prefix", prefix="hq"))
    assert strip.destination("hq/a/b") == "a/b"
    with pytest.raises(NamingError):
        strip.destination("other/a")
    rewrite = Naming.from_settings(
        DestinationSettings(naming="rewrite", pattern="local/(.*)", replacement=r"remote/\1")
    )
    assert rewrite.destination("local/tomcat") == "remote/tomcat"
    assert not rewrite.maps("elsewhere/tomcat")


def test_origin_chain_round_trips() -> None:
    agent = user_agent(extended(["hq"], "province"))
    assert chain_of(agent) == ["hq", "province"]
    assert chain_of("skopeo/1.13") == []
    assert extended(["hq"], "hq") == ["hq"]
