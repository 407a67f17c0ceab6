"""The ``notifications`` section: distribution's keys and defaults, clear errors."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from pyregistry.config import ConfigError, load_config
from pyregistry.config.model import Config, StorageConfig, typed_section
from pyregistry.notifications import build_notifier, parse_notifications
from pyregistry.notifications.config import ROOT_QUEUE_SUBDIR


def config_with(section: dict[str, Any], root: str = "/tmp/unused-root") -> Config:
    return Config(
        storage=StorageConfig(driver="filesystem", parameters={"rootdirectory": root}),
        notifications=typed_section("notifications", section, "test.yml"),
        source="test.yml",
    )


def one(**entry: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "hook", "url": "http://127.0.0.1:9/cb"}
    base.update(entry)
    return {"endpoints": [base]}


def test_distribution_example_section_loads(tmp_path: Path) -> None:
    """The section as distribution documents it, read through the real config loader."""
    path = tmp_path / "config.yml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 0.1
            storage:
              filesystem:
                rootdirectory: {tmp_path / "data"}
            notifications:
              events:
                includereferences: true
              endpoints:
                - name: alistener
                  disabled: false
                  url: https://my.listener.example/event
                  headers:
                    Authorization: [Bearer sometoken]
                  timeout: 500ms
                  threshold: 5
                  backoff: 2s
                  ignoredmediatypes:
                    - application/octet-stream
                  ignore:
                    mediatypes:
                      - application/vnd.oci.image.config.v1+json
                    actions:
                      - pull
                - name: spare
                  disabled: true
                  url: http://127.0.0.1:1/x
            """
        )
    )
    settings = parse_notifications(load_config(str(path)))
    assert settings.include_references is True
    assert settings.disabled == ("spare",)
    (ep,) = settings.endpoints
    assert (ep.name, ep.url) == ("alistener", "https://my.listener.example/event")
    assert ep.headers == {"Authorization": ["Bearer sometoken"]}
    assert (ep.timeout, ep.threshold, ep.backoff) == (0.5, 5, 2.0)
    assert ep.ignored_media_types == {
        "application/octet-stream",
        "application/vnd.oci.image.config.v1+json",
    }
    assert ep.ignored_actions == {"pull"}
    # with a filesystem root and no queue.directory, the queue lives under the root
    assert settings.queue_directory == str(tmp_path / "data" / ROOT_QUEUE_SUBDIR)


def test_defaults_are_distributions() -> None:
    (ep,) = parse_notifications(config_with(one(timeout=0, threshold=0))).endpoints
    assert (ep.timeout, ep.threshold, ep.backoff) == (1.0, 10, 1.0)
    assert ep.ignored_actions == frozenset() and ep.headers == {}


def test_no_endpoints_means_no_notifier() -> None:
    assert build_notifier(config_with({})) is None
    disabled = one(disabled=True)
    assert build_notifier(config_with(disabled)) is None


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ({"endpoints": [{"url": "http://127.0.0.1:9/"}]}, "endpoints[0].name", "required"),
        ({"endpoints": [{"name": "a"}]}, "endpoints[0].url", "required"),
        (one(url="ftp://example/x"), "endpoints[0].url", "http://"),
        (one(url="http:///nohost"), "endpoints[0].url", "host"),
        (one(url="http://127.0.0.1:99999/x"), "endpoints[0].url", "port"),
        (one(timeout="soon"), "endpoints[0].timeout", "invalid duration"),
        (one(backoff="-1s"), "endpoints[0].backoff", "negative"),
        (one(threshold=-2), "endpoints[0].threshold", "non-negative integer"),
        (one(threshold="many"), "endpoints[0].threshold", "non-negative integer"),
        (one(disabled="maybe"), "endpoints[0].disabled", "true or false"),
        (one(headers={"X-A": "notalist"}), "endpoints[0].headers.X-A", "list of values"),
        (one(ignore={"actions": ["push", "pulls"]}), "endpoints[0].ignore.actions", "'pulls'"),
        (one(ignoredmediatypes="text/plain"), "endpoints[0].ignoredmediatypes", "list"),
        ({"events": {"includereferences": "yes"}}, "events.includereferences", "true or false"),
        (
            {"endpoints": [{"name": "a", "url": "http://h/"}, {"name": "a", "url": "http://g/"}]},
            "endpoints[1].name",
            "duplicate",
        ),
        ({"endpoints": {"name": "a"}}, "endpoints", "list"),
    ],
)
def test_bad_values_name_the_key(section: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_notifications(config_with(section))
    assert caught.value.key == f"notifications.{key}"
    assert words in caught.value.message
    assert str(caught.value).startswith("test.yml: notifications.")


def test_unknown_key_is_refused_by_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(
        "version: 0.1\nstorage: inmemory\nnotifications:\n"
        "  endpoints:\n    - name: a\n      url: http://127.0.0.1:9/\n      treshold: 3\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert "threshold" in str(caught.value)  # the loader suggests the right spelling


def test_unusable_queue_directory_fails_at_startup(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    section = one()
    section["queue"] = {"directory": str(blocker / "queue")}
    with pytest.raises(ConfigError) as caught:
        build_notifier(config_with(section))
    assert caught.value.key == "notifications.queue.directory"
    assert "cannot open the notification queue" in caught.value.message


def test_ignore_rules_apply_independently() -> None:
    section = one(ignore={"actions": ["pull"]})
    (ep,) = parse_notifications(config_with(section)).endpoints
    blob = {"mediaType": "application/octet-stream"}
    assert not ep.wants({"action": "pull", "target": blob})  # actions alone work
    assert ep.wants({"action": "push", "target": blob})
    section = one(ignoredmediatypes=["application/octet-stream"])
    (ep,) = parse_notifications(config_with(section)).endpoints
    assert not ep.wants({"action": "push", "target": blob})
    assert ep.wants({"action": "delete", "target": {"digest": "sha256:0"}})
