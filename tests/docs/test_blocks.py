"""Every code block of README.md and docs/*.md does what it shows (see blocks.py for how
each block is classified and tested). A block someone adds is picked up on the next run."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyregistry.auth.rules import parse_rules
from pyregistry.config import load_config
from tests.docs.blocks import Block, all_blocks, of_kind, preceding
from tests.docs.sandbox import LAYOUT, Sandbox
from tests.support.installed import installed_venv, run

#: Blocks that cannot run here may say so with a marker; there should stay only a few
#: (5 today: serve.sh on :5000, test.sh itself, `pip install .`, an S3 example, a pytest
#: command in docs/storage-drivers.md).
MAX_SKIPPED = 6


def ids(blocks: list[Block]) -> list[str]:
    return [block.name for block in blocks]


def test_every_block_is_classified() -> None:
    unknown = [f"{b.name} (```{b.language})" for b in all_blocks() if b.kind == "unknown"]
    assert not unknown, (
        "give these blocks a language tests/docs knows (python, yaml, json, toml, bash, text) "
        f"or a <!-- docs-test: ... --> marker: {unknown}"
    )


def test_skipped_blocks_are_few_and_say_why() -> None:
    skipped = of_kind("skip")
    assert all(block.marker_arg for block in skipped), "a skip marker needs a reason"
    assert len(skipped) <= MAX_SKIPPED, [f"{b.name}: {b.marker_arg}" for b in skipped]


def config_document(block: Block) -> dict[str, Any]:
    """The block as a whole config document: nested under its ``config-under`` key if it
    has one, with ``version`` and in-memory ``storage`` added when left out."""
    document: Any = yaml.safe_load(block.text)
    assert isinstance(document, dict), f"{block.name}: not a YAML mapping"
    if block.marker == "config-under":
        for key in reversed(block.marker_arg.split(".")):
            document = {key: document}
    document.setdefault("version", "0.1")
    document.setdefault("storage", {"inmemory": {}})
    return document


@pytest.mark.parametrize("block", of_kind("config"), ids=ids(of_kind("config")))
def test_config_block_loads(block: Block, tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config_document(block)))
    load_config(str(path), environ={})


@pytest.mark.parametrize("block", of_kind("rules"), ids=ids(of_kind("rules")))
def test_rules_block_parses(block: Block) -> None:
    rules = parse_rules(block.text.encode())
    assert rules is not None


@pytest.mark.parametrize("block", of_kind("json"), ids=ids(of_kind("json")))
def test_json_block_parses(block: Block) -> None:
    json.loads(block.text)


@pytest.mark.parametrize("block", of_kind("toml"), ids=ids(of_kind("toml")))
def test_toml_block_parses(block: Block) -> None:
    assert tomllib.loads(block.text), f"{block.name}: empty TOML"


@pytest.mark.parametrize("block", of_kind("api"), ids=ids(of_kind("api")))
def test_api_listing_matches_the_code(block: Block) -> None:
    """Each ``class`` it lists exists (in the package it imports from, or the module its
    ``# path.py`` comment names), with each ``def`` (``async`` where the listing says)."""
    package = re.search(r"^from ([\w.]+) import", block.text, re.M)
    base = [importlib.import_module(package[1])] if package else []
    namespaces = list(base)
    assert re.search(r"^class ", block.text, re.M), f"{block.name}: lists no class"
    missing: list[str] = []
    current: Any = None
    for line in block.text.splitlines():
        if module := re.match(r"^# ([\w/]+)\.py", line):
            namespaces = [*base, importlib.import_module(module[1].replace("/", "."))]
        elif cls := re.match(r"^class (\w+)", line):
            found = [getattr(ns, cls[1]) for ns in namespaces if hasattr(ns, cls[1])]
            current = found[0] if found else None
            if current is None:
                missing.append(f"class {cls[1]}")
        elif (method := re.match(r"^\s+(async )?def (\w+)\(", line)) and current is not None:
            function = getattr(current, method[2], None)
            if function is None:
                missing.append(f"{current.__name__}.{method[2]}")
            elif bool(method[1]) != inspect.iscoroutinefunction(function):
                missing.append(f"{current.__name__}.{method[2]} (async is {not method[1]})")
    assert not missing, f"{block.name} lists what the code does not have: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("block", of_kind("script"), ids=ids(of_kind("script")))
def test_python_example_runs_from_the_wheel(block: Block, tmp_path: Path) -> None:
    installed = installed_venv()
    (tmp_path / "example.py").write_text(block.text)
    run([installed.python, "example.py"], tmp_path, installed.env(), 180)
    assert not [p.name for p in tmp_path.iterdir() if p.name != "example.py"], (
        "the example left files behind"
    )


@pytest.mark.slow
@pytest.mark.parametrize("block", of_kind("pytest"), ids=ids(of_kind("pytest")))
def test_pytest_example_passes_from_the_wheel(block: Block, tmp_path: Path) -> None:
    installed = installed_venv()
    shutil.copytree(LAYOUT, tmp_path / "images" / LAYOUT.name)
    (tmp_path / "test_example.py").write_text(block.text)
    output = run(
        [installed.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        tmp_path,
        installed.env(),
        180,
    )
    tests = len(re.findall(r"^def test_", block.text, re.M))
    assert f"{tests} passed" in output, output


@pytest.mark.slow
@pytest.mark.parametrize("block", of_kind("shell"), ids=ids(of_kind("shell")))
def test_shell_block_runs(block: Block, tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, installed_venv())
    config = preceding(block, "config")
    if config is not None:
        sandbox.write_config(yaml.safe_dump(config_document(config)))
    result = sandbox.run(block.text)
    assert result.returncode == 0, f"{block.name} failed:\n{result.stdout[-6000:]}"
