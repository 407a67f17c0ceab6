"""The ``pyregistry`` command line: version, usage and configuration errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pyregistry
from pyregistry.cli import build_parser, main
from tests.support.registry_process import REPO_ROOT


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pyregistry", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"pyregistry {pyregistry.__version__}\n"


def test_version_as_a_module() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"pyregistry {pyregistry.__version__}\n"


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_subcommands_are_discovered_from_their_modules() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    assert "serve" in help_text


def test_bad_config_exits_2_with_the_key_and_file_on_stderr(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("version: 0.1\nstorage:\n  inmemory:\nhttp:\n  adr: ':5000'\n")
    result = run_cli("serve", str(config))
    assert result.returncode == 2
    assert f"{config}: http.adr: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_type_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yml"
    config.write_text("version: 0.1\nstorage:\n  inmemory:\n  delete:\n    enabled: maybe\n")
    assert main(["serve", str(config)]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "storage.delete.enabled" in err


def test_missing_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(tmp_path / "absent.yml")]) == 2
    assert "cannot read configuration" in capsys.readouterr().err


def test_bad_environment_override_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTRY_HTTP_DRAINTIMEOUT", "later")
    assert main(["serve"]) == 2
    assert "http.draintimeout" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["0", "many"])
def test_bad_worker_count_exits_2(
    workers: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--workers", workers]) == 2
    assert "workers must be a positive integer" in capsys.readouterr().err


def test_tls_certificate_that_does_not_exist_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "version: 0.1\nstorage: inmemory\nhttp:\n  addr: 127.0.0.1:0\n"
        f"  tls:\n    certificate: {tmp_path}/cert.pem\n    key: {tmp_path}/key.pem\n"
    )
    assert main(["serve", str(config)]) == 2
    assert f"{config}: http.tls.certificate: no such file" in capsys.readouterr().err


def test_worker_count_from_flag_environment_or_default() -> None:
    from pyregistry.server import resolve_workers
    from pyregistry.workers import default_workers

    assert resolve_workers(None, {}) == default_workers()
    assert resolve_workers(None, {"PYREGISTRY_WORKERS": "3"}) == 3
    assert resolve_workers("2", {"PYREGISTRY_WORKERS": "3"}) == 2


def test_unknown_storage_driver_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yml"
    config.write_text("version: 0.1\nstorage:\n  oss:\n    accesskeyid: x\n")
    assert main(["serve", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}: storage.oss: unknown storage driver 'oss'" in err
    assert "filesystem" in err and "azure" in err  # lists what is available


def test_driver_parameters_that_cannot_work_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("version: 0.1\nstorage:\n  azure:\n    accountname: x\n")
    assert main(["serve", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}: storage.azure: azure: container is required" in err
    assert "Traceback" not in err


def test_serve_loads_only_its_own_command_module() -> None:
    """The supervisor of several workers stays small: ``serve`` does not import the
    access-control commands (cryptography, bcrypt); other commands still parse."""
    script = (
        "import sys; from pyregistry.cli import build_parser;"
        "build_parser('serve').parse_args(['serve', 'x.yml']);"
        "heavy = ('pyregistry.auth', 'cryptography', 'bcrypt');"
        "print(sorted(m for m in heavy if m in sys.modules));"
        "build_parser('user').parse_args(['user', 'add', 'alice', '--password-stdin']);"
        "print('cryptography' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout + result.stderr
