"""No silent configuration: what pyregistry cannot honour stops start-up, naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyregistry.config import ConfigError, load_config

BASE = "version: 0.1\nstorage: inmemory\n"
REPO_ROOT = Path(__file__).resolve().parents[2]


def refused(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "config.yml"
    path.write_text(BASE + text)
    with pytest.raises(ConfigError) as info:
        load_config(str(path), {})
    assert info.value.source == str(path)
    return info.value


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("log:\n  hooks:\n    - type: slack\n", "log.hooks[0]", "not supported"),
        (
            "middleware:\n  storage:\n    - name: alicdn\n",
            "middleware.storage[0]",
            "alicdn",
        ),
        (
            "middleware:\n  repository:\n    - name: cloudfront\n",
            "middleware.repository[0]",
            "cloudfront",
        ),
        ("middleware:\n  registry:\n    - name: redirect\n", "middleware.registry[0]", "redirect"),
        ("reporting:\n  bugsnag:\n    apikey: k\n", "reporting.bugsnag", "Bugsnag"),
        ("reporting:\n  newrelic:\n    licensekey: k\n", "reporting.newrelic", "New Relic"),
        ("http:\n  h2c:\n    enabled: true\n", "http.h2c.enabled", "HTTP/1.1"),
        (
            "compatibility:\n  schema1:\n    enabled: true\n",
            "compatibility.schema1.enabled",
            "schema1",
        ),
        ("policy:\n  repository:\n    classes: [image]\n", "policy.repository.classes", "classes"),
    ],
)
def test_refused_with_the_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    error = refused(tmp_path, text)
    assert error.key == key
    assert words in error.message


def test_every_refusal_is_named(tmp_path: Path) -> None:
    error = refused(
        tmp_path,
        "log:\n  hooks:\n    - type: mail\nhttp:\n  h2c:\n    enabled: true\n",
    )
    assert error.key == "log.hooks[0]" and "http.h2c.enabled" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "proxy:\n",  # an empty section asks for nothing
        "proxy:\n  remoteurl: https://registry-1.docker.io\n  ttl: 24h\n",
        # a credential helper and a namespace upstream (distribution 3.1, and its main)
        "proxy:\n  remoteurl: https://x\n  exec:\n    command: helper\n    lifetime: 1h\n"
        "  remotenamespace: team\n",
        "mirrors:\n  - prefix: hub\n    url: https://registry-1.docker.io\n    ttl: 5m\n",
        "log:\n  hooks:\n    - type: mail\n      disabled: true\n",
        "middleware:\n  storage:\n    - name: cloudfront\n      disabled: true\n",
        # storage middleware pyregistry has (options are checked when the app is built)
        "middleware:\n  storage:\n    - name: redirect\n      options: {baseurl: 'http://x'}\n"
        "    - name: rewrite\n    - name: cloudfront\n",
        "reporting:\n  bugsnag:\n    apikey: ''\n  newrelic: {verbose: true}\n",
        "http:\n  h2c:\n    enabled: false\n  http2:\n    disabled: false\n  secret: s\n",
        "compatibility:\n  schema1:\n    signingkeyfile: /k.json\n",
        "storage:\n  inmemory:\n  tag:\n    concurrencylimit: 4\n",
        "redis:\n  addr: a:6379\n  addrs: [a:6379]\n  poolfifo: true\n  maxretries: 3\n",
        # Sentinel: the addresses are the sentinels'
        "redis:\n  addrs: [a:26379, b:26379]\n  mastername: m\n  sentinelpassword: s\n",
    ],
)
def test_accepted_settings(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yml"
    body = text if text.startswith("storage:") else BASE + text
    path.write_text(body if body.startswith("version") else "version: 0.1\n" + body)
    load_config(str(path), {})


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("http:\n  h2c:\n    enabled: true\n", "http.h2c.enabled: h2c is not supported"),
        ("log:\n  hooks: [{type: slack}]\n", "log.hooks[0]: hook type 'slack' is not supported"),
    ],
)
def test_serve_exits_2_naming_the_key_and_file(tmp_path: Path, text: str, said: str) -> None:
    config = tmp_path / "config.yml"
    config.write_text(BASE + text)
    result = subprocess.run(
        [sys.executable, "-m", "pyregistry", "serve", str(config)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"{config}: {said}" in result.stderr
    assert "Traceback" not in result.stderr
