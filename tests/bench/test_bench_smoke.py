"""``python -m bench --quick`` still runs end to end and prints a full table.

The figures themselves are not judged here (speed targets live in the bench, not in
timed tests); only that every row produced a positive number for every target and that
the ratio column is filled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.servers import distribution_binary

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS = (
    "monolithic",
    "chunked",
    "pull",
    "parallel",
    "base",
    "manifest",
    "head",
    "tags",
    "catalog",
    "images",
)
DEBIAN_DISTRIBUTION = "/usr/bin/docker-registry"
TIMEOUT = 180


def run_bench(
    tmp_path: Path,
    *args: str,
    env_extra: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    out: Path | None = None,
) -> tuple[dict[str, Any], str]:
    """Run the bench CLI in a subprocess (in ``cwd``); its JSON document and stdout."""
    out = out or tmp_path / "figures.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYREGISTRY_BENCH_")}
    env.update(env_extra or {})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"bench failed:\n{result.stdout}\n{result.stderr}"
    return json.loads((cwd / out).read_text()), result.stdout


def test_quick_bench_filesystem_against_distribution(tmp_path: Path) -> None:
    document, stdout = run_bench(tmp_path, "--targets", "fs,dist")
    assert document["errors"] == {}
    assert document["distribution"].startswith("2.8")  # Debian's, when no binary is named
    assert "dist = distribution 2.8" in stdout
    for target in ("fs", "dist"):
        figures = document["results"][target]
        assert sorted(figures) == sorted(ROWS)
        for row, figure in figures.items():
            assert figure["value"] > 0, (target, row, figure)
    assert document["results"]["fs"]["pull"]["unit"] == "MiB/s"
    for row in ("base", "manifest", "head", "tags", "catalog"):
        assert document["results"]["fs"][row]["unit"] == "req/s"
    assert document["results"]["fs"]["parallel"]["unit"] == "MiB/s"
    assert "8 parallel pulls of 4 MiB" in stdout
    assert "_catalog?n=10 over 24 repositories" in stdout
    assert "tags/list of 30 tags" in stdout
    # Every printed row carries a pyregistry/distribution ratio.
    table = stdout.split("fs/dist", 1)[1]
    for label in document["labels"].values():
        line = next(line for line in table.splitlines() if line.startswith(label))
        assert float(line.split()[-1]) > 0, line


def test_distribution_binary_by_option_or_environment(tmp_path: Path) -> None:
    """The named binary is the one run (here Debian's, named explicitly), with medians
    over interleaved rounds."""
    by_option, _ = run_bench(
        tmp_path,
        *("--targets", "dist", "--rows", "head,tags", "--repeat", "2"),
        *("--distribution", DEBIAN_DISTRIBUTION),
    )
    by_env, _ = run_bench(
        tmp_path,
        *("--targets", "dist", "--rows", "catalog"),
        env_extra={"PYREGISTRY_BENCH_DISTRIBUTION": DEBIAN_DISTRIBUTION},
    )
    for document in (by_option, by_env):
        assert document["errors"] == {}
        assert document["distribution"].startswith("2.8")
    rounds = by_option["rounds"]["dist"]
    assert len(rounds["head"]) == len(rounds["tags"]) == 2
    assert by_option["results"]["dist"]["head"]["value"] == min(rounds["head"])  # lower middle
    assert by_env["results"]["dist"]["catalog"]["value"] > 0


def test_relative_paths_are_the_callers(tmp_path: Path) -> None:
    """A relative ``--distribution``, ``--json`` or ``--root-dir`` names a path from where
    the bench was started, not from the servers' work directory."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "roots").mkdir()
    (tmp_path / "bin" / "registry").symlink_to(DEBIAN_DISTRIBUTION)
    document, _ = run_bench(
        tmp_path,
        *("--targets", "dist", "--rows", "head", "--distribution", "bin/registry"),
        *("--root-dir", "roots"),
        cwd=tmp_path,
        out=Path("figures.json"),
    )
    assert document["errors"] == {}
    assert document["distribution"].startswith("2.8")


def test_a_relative_reference_binary_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every bench that starts distribution (``bench.mirror``, ``bench.mirror_image``,
    ``bench.gc``) runs it from the servers' work directory: the path must not be relative."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "registry").symlink_to(DEBIAN_DISTRIBUTION)
    monkeypatch.chdir(tmp_path)
    assert distribution_binary("bin/registry") == str(tmp_path / "bin" / "registry")


def test_missing_distribution_binary_is_a_target_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--targets", "dist", "--rows", "head"]
        + ["--distribution", str(tmp_path / "no-such-registry")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert "is not an executable file" in result.stdout


def test_quick_bench_on_s3(tmp_path: Path) -> None:
    document, stdout = run_bench(
        tmp_path, "--targets", "s3", "--workers", "1", "--rows", "monolithic,chunked,pull"
    )
    assert document["errors"] == {}
    figures = document["results"]["s3"]
    assert sorted(figures) == ["chunked", "monolithic", "pull"]
    assert all(figure["value"] > 0 for figure in figures.values())
    assert "pull 8 MiB" in stdout


def test_bench_refuses_unknown_targets(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--targets", "fs,nginx"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "nginx" in result.stderr


def test_startup_bench_reports_both_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--startup", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    # The exit status is the 0.5 s verdict, which belongs to the bench, not to CI.
    assert result.returncode in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("first, with imports") for line in lines), result.stdout
    assert any(line.strip().startswith("later, in the same process") for line in lines)
