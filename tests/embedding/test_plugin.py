"""The pytest plugin as a project would load it (``-p pyregistry.pytest_plugin``, what its
``pytest11`` entry point does): fixtures, the preload marker and ini option, strict
markers, in a pytest run of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.images import build_image, write_docker_archive, write_oci_layout

REPO = Path(__file__).resolve().parents[2]

PROJECT_TESTS = """
import pytest

def test_session_registry_is_preloaded(registry_session):
    assert registry_session.tags("demo/layout") == ["v1"]
    assert registry_session.tags("demo/docker") == ["v2"]
    assert registry_session.get_manifest("demo/layout", "v1").digest == "{layout_digest}"

@pytest.mark.registry_preload("images/layout", "marked/app", tag="stable")
def test_marker(registry):
    assert registry.catalog() == ["marked/app"]
    assert registry.get_manifest("marked/app", "stable").digest == "{layout_digest}"

def test_function_registry_starts_empty(registry, registry_session):
    assert registry.url != registry_session.url
    assert registry.catalog() == []

def test_factory(registry_factory):
    reg = registry_factory(storage="filesystem", delete=False)
    assert reg.config.storage.driver == "filesystem"
    assert not reg.config.storage.delete_enabled
"""


def _run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the plugin under test
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plugin_in_a_project_of_its_own(tmp_path: Path) -> None:
    project = tmp_path / "project"
    image = build_image(seed="plugin-project", layers=1)
    write_oci_layout(project / "images/layout", image, tag="v1")
    write_docker_archive(project / "images/docker.tar", image, repo_tags=["demo/docker:v2"])
    (project / "pytest.ini").write_text(
        textwrap.dedent(
            """\
            [pytest]
            pyregistry_preload =
                images/layout demo/layout
                images/docker.tar
            """
        )
    )
    (project / "test_project.py").write_text(
        PROJECT_TESTS.format(layout_digest=image.manifest_digest)
    )
    result = _run_pytest(project, "-p", "pyregistry.pytest_plugin", "--strict-markers")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_plugin_import_is_cheap() -> None:
    """Loading the plugin (in every pytest run once installed) imports no server code."""
    probe = (
        "import sys, pyregistry.pytest_plugin; "
        "names = ('pyregistry.embedding', 'uvicorn', 'starlette'); "
        "heavy = [m for m in names if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
