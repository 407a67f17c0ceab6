"""scripts/serve.sh as a newcomer runs it, in a copy of the checkout: the first start says
that it builds the virtualenv, the next one starts straight away, and a changed
pyproject.toml is installed again. The registry listens on a free loopback port
(``REGISTRY_HTTP_ADDR``), never on the host's :5000."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.command import free_port, stop_process
from tests.support.installed import SOURCES, clean_env

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # builds a virtualenv and installs the dependencies: ~30-60 s


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def start(checkout: Path, timeout: float = 300) -> str:
    """Run serve.sh until the registry answers; stop it; what it printed on stderr."""
    port = free_port()
    env = clean_env() | {"REGISTRY_HTTP_ADDR": f"127.0.0.1:{port}"}
    env = {k: v for k, v in env.items() if k != "REGISTRY_CONFIGURATION_PATH"}
    log = checkout / "serve.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=checkout,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not _answers(f"http://127.0.0.1:{port}/v2/"):
            assert process.poll() is None, f"serve.sh exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no answer on {port}:\n{log.read_text()}"
            time.sleep(0.2)
    finally:
        stop_process(process)
    return log.read_text()


def test_serve_script_says_what_it_does_and_reinstalls(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in (*SOURCES, "scripts"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=ignore)
        else:
            checkout.mkdir(exist_ok=True)
            shutil.copy2(source, checkout / name)
    os.chmod(checkout / "scripts" / "serve.sh", 0o755)

    first = start(checkout)
    assert "first start: creating the virtualenv" in first, first
    assert "installing pyregistry and its dependencies" in first, first

    again = start(checkout)
    assert "serve.sh:" not in again, f"nothing to install, nothing to say:\n{again}"

    with open(checkout / "pyproject.toml", "a") as pyproject:
        pyproject.write("\n# a change\n")
    changed = start(checkout)
    assert "pyproject.toml changed" in changed, changed
    assert "first start" not in changed
