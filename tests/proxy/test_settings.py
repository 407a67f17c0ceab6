"""The mirror's configuration: ``mirrors`` is a typed section (checked and converted by
the loader), read into upstream settings with the mirror's defaults; mistakes name their
key."""

from __future__ import annotations

from typing import Any

import pytest

from pyregistry.config.errors import ConfigError
from pyregistry.config.loader import config_from_document
from pyregistry.config.sections.mirrors import MirrorEntry
from pyregistry.proxy import upstreams_from_config
from pyregistry.proxy.settings import DEFAULT_EXPIRE_SECONDS


def _config(**sections: Any) -> Any:
    return config_from_document({"version": "0.1", "storage": {"inmemory": {}}, **sections})


def test_mirrors_are_typed_and_defaulted() -> None:
    config = _config(
        mirrors=[
            {"prefix": "hub/", "url": "http://a", "ttl": "5m", "allow": ["library/*"]},
            {"prefix": "hub/deep", "url": "http://b", "expire": "0s", "localfirst": True},
        ]
    )
    assert isinstance(config.mirrors[0], MirrorEntry)
    assert config.mirrors[0].ttl == 300.0
    deep, hub = upstreams_from_config(config)  # longest prefix first
    assert (hub.prefix, hub.tag_ttl, hub.expire, hub.allow) == (
        "hub",
        300.0,
        DEFAULT_EXPIRE_SECONDS,
        ("library/*",),
    )
    assert hub.expires and not deep.expires  # 0s: forever; local-first: never expired
    assert deep.covers("hub/deep/x") and hub.remote_name("hub/x") == "x"


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        ({"mirrors": [{"url": "http://a"}]}, "mirrors[0].prefix"),
        ({"mirrors": [{"prefix": "a", "url": "http://a", "expire": "soon"}]}, "expire"),
        ({"mirrors": [{"prefix": "a", "url": "http://a"}] * 2}, "mirrors"),
        (
            {"mirrors": [{"prefix": "a", "url": "http://a"}], "proxy": {"remoteurl": "http://b"}},
            "mirrors",
        ),
    ],
)
def test_mistakes_name_their_key(sections: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        upstreams_from_config(_config(**sections))
    assert key in str(raised.value)
