"""pyregistry as a user gets it: a wheel built from a copy of the checkout, installed into
a fresh virtualenv, away from this tree (nothing of the checkout is importable there).

Built once per test process (``installed_venv()`` caches it) and shared by the wheel test
(tests/embedding/test_install.py) and the documentation examples (tests/docs). The wheel
is built from a *copy* so that a build that litters the tree (``build/``, ``*.egg-info``)
is seen, and what pip printed is kept so a test can look for warnings in it.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: What the wheel is built from: the project's sources, nothing else of the checkout.
SOURCES = ("pyproject.toml", "README.md", "pyregistry", "storage_drivers", "conformance")
DISTRIBUTION = "pyregistry-oci"


@dataclass(frozen=True)
class InstalledVenv:
    root: Path  # scratch directory holding all of the below
    source: Path  # the copied sources the wheel was built from
    wheel: Path
    build_output: str  # what `pip wheel` printed (stdout and stderr)
    venv: Path

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        """The environment to run things in the venv with (its bin first on PATH)."""
        env = clean_env()
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.venv)
        return env


def clean_env() -> dict[str, str]:
    """This process's environment without what would make the checkout importable."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run ``argv``; its stdout and stderr together, or an AssertionError showing them."""
    result = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout[-6000:]}"
    )
    return result.stdout


@functools.cache
def installed_venv() -> InstalledVenv:
    root = Path(tempfile.mkdtemp(prefix="pyregistry-installed-"))
    atexit.register(shutil.rmtree, root, True)
    source = root / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    env = clean_env()
    base_python = getattr(sys, "_base_executable", sys.executable)
    venv = root / "venv"
    run([base_python, "-m", "venv", str(venv)], root, env, 120)
    python = str(venv / "bin" / "python")
    wheels = root / "wheels"
    output = run(
        [python, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(source)],
        root,
        env,
        600,
    )
    (wheel,) = wheels.glob("*.whl")
    run([python, "-m", "pip", "install", "-q", str(wheel), "pytest"], root, env, 600)
    return InstalledVenv(root, source, wheel, output, venv)
