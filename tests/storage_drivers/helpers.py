"""Helpers for the driver tests: third-party driver distributions, fresh interpreters.

The suite's data helpers live in :mod:`storage_drivers.testsuite.data`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.command import run

REPO_ROOT = Path(__file__).resolve().parents[2]


THIRD_PARTY_MODULE = '''
"""A storage driver shipped by another package (written by the tests)."""
from storage_drivers.inmemory import InMemoryDriver


class MyDriver(InMemoryDriver):
    name = "mydriver"

    def __init__(self, greeting: str = "none") -> None:
        super().__init__()
        self.greeting = greeting


class NotADriver:
    pass
'''


def install_third_party_driver(site: Path) -> Path:
    """Lay out an installed distribution ``mypkg`` in ``site`` (a sys.path entry), as pip
    would: the module plus ``*.dist-info`` whose entry points declare drivers."""
    (site / "mypkg").mkdir(parents=True)
    (site / "mypkg" / "__init__.py").write_text(THIRD_PARTY_MODULE)
    info = site / "mypkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[pyregistry.storage_drivers]\nmydriver = mypkg:MyDriver\nnotadriver = mypkg:NotADriver\n"
    )
    return site


def run_python(code: str, *sys_path: Path) -> str:
    """Run ``code`` in a fresh interpreter with ``sys_path`` and this repository importable."""
    path = os.pathsep.join([*map(str, sys_path), str(REPO_ROOT)])
    return run([sys.executable, "-c", code], env={"PYTHONPATH": path}, cwd=REPO_ROOT)


SUITE_PACKAGE = '''
"""Drivers of another package that run the driver suite (written by the tests)."""
from storage_drivers.inmemory import InMemoryDriver


class EchoDriver(InMemoryDriver):
    name = "echo"


class UnsortedDriver(InMemoryDriver):
    """Breaks the contract: listings come back in reverse order."""

    name = "unsorted"

    async def list(self, path):
        return list(reversed(await super().list(path)))


class BareDriver(InMemoryDriver):
    """Registered, but its package says nothing of how to test it."""

    name = "bare"
'''

SUITE_HOOKS = '''
"""The package's hooks for the driver suite: test-only code, apart from the drivers."""
from storage_drivers.testsuite import DriverTarget

import suitepkg


def echo_target(tmp_path):
    return DriverTarget(make=suitepkg.EchoDriver, content_in_process=True)


def unsorted_target(tmp_path):
    return DriverTarget(make=suitepkg.UnsortedDriver, content_in_process=True)
'''

SUITE_ENTRY_POINTS = """\
[pyregistry.storage_drivers]
echo = suitepkg:EchoDriver
unsorted = suitepkg:UnsortedDriver
bare = suitepkg:BareDriver

[pyregistry.storage_drivers.testsuite]
echo = suitepkg.testing:echo_target
unsorted = suitepkg.testing:unsorted_target
"""


def install_suite_drivers(site: Path) -> Path:
    """Lay out an installed distribution ``suitepkg`` in ``site``: three drivers, two of
    them with a ``pyregistry.storage_drivers.testsuite`` hook."""
    (site / "suitepkg").mkdir(parents=True)
    (site / "suitepkg" / "__init__.py").write_text(SUITE_PACKAGE)
    (site / "suitepkg" / "testing.py").write_text(SUITE_HOOKS)
    info = site / "suitepkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: suitepkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(SUITE_ENTRY_POINTS)
    return site


def run_pytest(cwd: Path, *args: str, sys_path: Path) -> tuple[int, str]:
    """pytest in a fresh interpreter with ``sys_path`` and this repository importable:
    its exit code and output (the fast tests only: the 256 MiB one is left out)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(sys_path), str(REPO_ROOT)])}
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "not slow"]
    done = subprocess.run(
        [*argv, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout + done.stderr
