"""The package as a user installs it: a wheel named ``pyregistry-oci`` (the name
``pyregistry`` on PyPI is someone else's), built without warnings and without littering the
checkout, installed into a fresh virtualenv where the command, the storage drivers and the
pytest plugin (through its ``pytest11`` entry point) work away from this checkout.

The README's examples run in that same virtualenv: tests/docs."""

from __future__ import annotations

import pytest

from tests.support.installed import DISTRIBUTION, installed_venv, run

FIXTURE_TEST = """
def test_fixture_from_the_installed_plugin(registry):
    digest = registry.push_random_image("venv/app", "v1")
    assert registry.get_manifest("venv/app", "v1").digest == digest
"""

pytestmark = pytest.mark.slow  # builds and installs a wheel: ~30-60 s


def test_wheel_is_named_and_built_cleanly() -> None:
    installed = installed_venv()
    assert installed.wheel.name.startswith(DISTRIBUTION.replace("-", "_") + "-")
    assert "deprecat" not in installed.build_output.lower(), installed.build_output
    litter = [p.name for p in installed.source.iterdir() if p.name == "build"]
    litter += [p.name for p in installed.source.rglob("*.egg-info")]
    assert litter == [], f"building the wheel left {litter} in the source tree"


def test_installed_command_drivers_and_plugin() -> None:
    installed = installed_venv()
    env = installed.env()
    work = installed.root / "plugin-work"  # neither the checkout nor the sources importable
    work.mkdir()
    version = run([str(installed.bin / "pyregistry"), "--version"], work, env, 60)
    assert version.strip()
    metadata = run(
        [
            installed.python,
            "-c",
            "from importlib.metadata import distribution, entry_points; "
            f"print(distribution('{DISTRIBUTION}').metadata['License-Expression']); "
            "print(sorted(e.value for e in entry_points(group='pytest11'))); "
            "print(sorted(e.name for e in entry_points(group='pyregistry.storage_drivers')"
            " if e.load()))",
        ],
        work,
        env,
        60,
    )
    license_line, plugins, drivers = metadata.splitlines()
    assert license_line == "Apache-2.0"
    assert "pyregistry.pytest_plugin" in plugins, (
        "pyproject.toml lacks the pytest11 entry point: "
        '[project.entry-points.pytest11] "pyregistry.pytest_plugin" = "pyregistry.pytest_plugin"'
    )
    for driver in ("filesystem", "inmemory", "s3", "swift", "gcs", "azure"):
        assert f"'{driver}'" in drivers
    # gcs and azure load without their extras; making one says what to install
    refused = run(
        [
            installed.python,
            "-c",
            "from storage_drivers import StorageDriverError, create_driver\n"
            "try:\n    create_driver('gcs', {'bucket': 'b'})\n"
            "except StorageDriverError as exc:\n    print(exc)",
        ],
        work,
        env,
        60,
    )
    assert "pip install 'pyregistry[gcs]'" in refused
    (work / "test_uses_fixture.py").write_text(FIXTURE_TEST)
    output = run([installed.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], work, env, 120)
    assert "1 passed" in output
