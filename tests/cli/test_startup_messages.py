"""What ``pyregistry serve`` prints while it starts reads right: a configuration error is
reported before (and instead of) any "listening on" line, with one worker or several, and
the first upload purge is announced as a time of day, not a count of seconds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pyregistry.clock import in_words, when_in_words
from tests.support.registry_process import REPO_ROOT, RegistryProcess, free_port, write_config

#: Loads fine, fails when the app is built: the token trust bundle cannot be read.
UNREADABLE_BUNDLE = {
    "token": {
        "realm": "http://127.0.0.1/auth/token",
        "service": "registry",
        "issuer": "issuer",
        "rootcertbundle": "/nonexistent/pyregistry-bundle.pem",
    }
}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_config_error_comes_before_any_listening_line(tmp_path: Path, workers: str) -> None:
    port = free_port()
    config = write_config(tmp_path, port, storage="inmemory", auth=UNREADABLE_BUNDLE)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "pyregistry", "serve", "--workers", workers, str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "auth.token.rootcertbundle" in result.stderr
    assert "cannot read /nonexistent/pyregistry-bundle.pem" in result.stderr
    assert "listening on" not in result.stderr, result.stderr


def test_first_upload_purge_is_announced_as_a_time_of_day(tmp_path: Path) -> None:
    port = free_port()
    maintenance = {"uploadpurging": {"enabled": True, "age": "168h", "interval": "24h"}}
    storage = {"inmemory": {}, "maintenance": maintenance}
    config = write_config(tmp_path, port, storage=storage)
    with RegistryProcess(["serve", str(config)], port=port) as proc:
        assert proc.stop() == 0
    line = re.search(r"first upload purge at (\d\d:\d\d(:\d\d)?) UTC \(in ([^)]+)\)", proc.stderr)
    assert line is not None, proc.stderr
    assert re.fullmatch(r"\d+ (s|min)|\d+ h( \d+ min)?", line[3]), line[0]
    assert "starting upload purge in" not in proc.stderr


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "0 s"),
        (42.4, "42 s"),
        (1668.65, "28 min"),
        (3599, "1 h"),
        (3900, "1 h 5 min"),
        (7200, "2 h"),
        (86400 * 2 + 3 * 3600 + 10, "2 d 3 h"),
    ],
)
def test_delays_in_words(seconds: float, words: str) -> None:
    assert in_words(seconds) == words


def test_when_in_words_gives_the_clock_and_the_date_when_not_today() -> None:
    now = datetime(2026, 12, 4, 14, 4, 30, tzinfo=UTC)
    assert when_in_words(1668.65, now) == "14:32 UTC (in 28 min)"
    assert when_in_words(42, now) == "14:05:12 UTC (in 42 s)"
    assert when_in_words(11 * 3600, now) == "2026-12-05 01:04 UTC (in 11 h)"
