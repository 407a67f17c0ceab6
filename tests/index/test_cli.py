"""``pyregistry index``: usage errors, a disabled index, and a rebuild in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pyregistry.cli import main
from tests.index.helpers import index_directory, view


def _config(tmp_path: Path, **sections: object) -> Path:
    document: dict[str, object] = {
        "version": "0.1",
        "storage": {"filesystem": {"rootdirectory": str(tmp_path)}},
    }
    document.update(sections)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_index_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index"]) == 2
    assert "rebuild" in capsys.readouterr().err


def test_rebuild_of_a_disabled_index_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "rebuild", str(_config(tmp_path, index={"enabled": False}))]) == 1
    assert "index.enabled: false" in capsys.readouterr().err


def test_unknown_index_key_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "rebuild", str(_config(tmp_path, index={"paht": "/x"}))]) == 2
    assert "index.paht" in capsys.readouterr().err


def test_rebuild_of_an_empty_root_into_a_chosen_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = tmp_path / "elsewhere"
    assert main(["index", "rebuild", str(_config(tmp_path, index={"path": str(chosen)}))]) == 0
    err = capsys.readouterr().err
    assert f"index: {chosen}" in err and "0 repositories scanned" in err
    state = view(chosen)
    assert state is not None and state.ready and state.repositories == []
    assert view(index_directory(tmp_path)) is None
