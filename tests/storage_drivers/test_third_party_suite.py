"""A third party's driver gets the driver suite: through its own test module, and through
our run over every registered driver (the package's ``testsuite`` hook). A registered
driver nobody says how to build fails that run, by name; a broken one fails the suite.

Each case is pytest in a fresh interpreter that sees an installed distribution
``suitepkg`` (a ``*.dist-info`` on its path, as pip lays it out).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.storage_drivers.helpers import REPO_ROOT, install_suite_drivers, run_pytest

REGISTERED = "tests/storage_drivers/test_registered_drivers.py"

AUTHOR_TESTS = '''
"""What a driver author writes: one class, one fixture (pytest-asyncio in strict mode)."""
import pytest

from storage_drivers.testsuite import DriverSuite, DriverTarget
from suitepkg import EchoDriver


class TestEchoDriver(DriverSuite):
    @pytest.fixture
    def driver_target(self) -> DriverTarget:
        return DriverTarget(make=EchoDriver, content_in_process=True)
'''


def counts(output: str) -> dict[str, int]:
    """``{"passed": n, "failed": m, ...}`` from pytest's summary line."""
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error|skipped)", output)}


def suite_size() -> int:
    """Tests in the suite for one driver, without the slow one."""
    from storage_drivers.testsuite import DriverSuite

    return sum(1 for name in dir(DriverSuite) if name.startswith("test_"))


def test_the_authors_own_test_module_runs_the_suite(tmp_path: Path) -> None:
    site = install_suite_drivers(tmp_path / "site-packages")
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_echo.py").write_text(AUTHOR_TESTS)
    code, output = run_pytest(project, "test_echo.py", sys_path=site)
    assert code == 0, output
    found = counts(output)
    assert found["passed"] >= suite_size() - 1, output  # every test but the slow one
    assert "skipped" not in found, output


def test_every_registered_driver_runs_the_suite_through_its_hook(tmp_path: Path) -> None:
    site = install_suite_drivers(tmp_path / "site-packages")
    code, output = run_pytest(REPO_ROOT, REGISTERED, "-k", "echo", sys_path=site)
    assert code == 0, output
    assert counts(output)["passed"] >= suite_size() - 1, output
    assert "TestRegisteredDrivers" not in output  # nothing failed, nothing to report


def test_a_broken_registered_driver_fails_the_suite(tmp_path: Path) -> None:
    site = install_suite_drivers(tmp_path / "site-packages")
    code, output = run_pytest(REPO_ROOT, REGISTERED, "-k", "unsorted", sys_path=site)
    assert code == 1, output
    assert "FAILED" in output and "test_list_root_and_dirs[unsorted]" in output, output
    assert counts(output)["passed"] > 0, output  # what it does not break still passes


def test_a_registered_driver_without_a_way_to_build_it_fails(tmp_path: Path) -> None:
    site = install_suite_drivers(tmp_path / "site-packages")
    selected = "bare and test_fresh_driver_is_empty"
    code, output = run_pytest(REPO_ROOT, REGISTERED, "-k", selected, sys_path=site)
    assert code == 1, output
    assert counts(output) == {"error": 1}, output  # an error in its set-up, not a skip
    assert "storage driver 'bare' (suitepkg.BareDriver) is registered" in output, output
    assert "'bare_driver_target'" in output and "pyregistry.storage_drivers.testsuite" in output
