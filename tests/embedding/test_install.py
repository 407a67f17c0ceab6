"""``pip install pyregistry`` into a fresh virtualenv, then the README example and the
pytest plugin (through its ``pytest11`` entry point) work there, away from this checkout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: What the wheel is built from (pyproject's packages.find includes these).
SOURCES = ("pyproject.toml", "README.md", "pyregistry", "storage_drivers", "conformance")
FIXTURE_TEST = """
def test_fixture_from_the_installed_plugin(registry):
    digest = registry.push_random_image("venv/app", "v1")
    assert registry.get_manifest("venv/app", "v1").digest == digest
"""

pytestmark = pytest.mark.slow  # builds and installs a wheel: ~30-60 s


def _readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Embedding") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's embedding section has no python example"
    return match.group(1)


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
        f"{result.stderr[-4000:]}"
    )
    return result.stdout


def test_fresh_virtualenv(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    _run([base_python, "-m", "venv", str(venv)], tmp_path, env, 120)
    python = str(venv / "bin/python")
    _run([python, "-m", "pip", "install", "-q", str(source), "pytest"], tmp_path, env, 600)

    work = tmp_path / "work"  # neither the checkout nor the sources are importable here
    work.mkdir()
    (work / "example.py").write_text(_readme_example())
    _run([python, "example.py"], work, env, 120)

    plugins = _run(
        [
            python,
            "-c",
            "from importlib.metadata import entry_points; "
            "print(sorted(e.value for e in entry_points(group='pytest11')))",
        ],
        work,
        env,
        60,
    )
    assert "pyregistry.pytest_plugin" in plugins, (
        "pyproject.toml lacks the pytest11 entry point: "
        '[project.entry-points.pytest11] "pyregistry.pytest_plugin" = "pyregistry.pytest_plugin"'
    )
    (work / "test_uses_fixture.py").write_text(FIXTURE_TEST)
    output = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], work, env, 120)
    assert "1 passed" in output
