"""The container image: the Dockerfile keeps the reference image's paths (config
``/etc/docker/registry/config.yml``, data ``/var/lib/registry``, port 5000) and runs as a
non-root user, and the config it ships loads with our loader and agrees with it.

No image is built here (the base image cannot be pulled without a network): the
Dockerfile is read as text, instruction by instruction.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from pyregistry.config import load_config
from pyregistry.sockets import parse_addr

REPO = Path(__file__).resolve().parents[2]
CONFIG_PATH = "/etc/docker/registry/config.yml"
DATA_DIR = "/var/lib/registry"
PORT = 5000


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def words(arguments: str) -> list[str]:
    """Exec form (a JSON list) or shell form."""
    if arguments.startswith("["):
        parsed: list[str] = json.loads(arguments)
        return parsed
    return shlex.split(arguments)


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(REPO / "Dockerfile")


def all_of(dockerfile: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in dockerfile if name == keyword]


def test_the_shipped_config_is_copied_to_the_reference_path(
    dockerfile: list[tuple[str, str]],
) -> None:
    copies = [words(a) for a in all_of(dockerfile, "COPY")]
    assert ["packaging/config.yml", CONFIG_PATH] in copies
    command = words(all_of(dockerfile, "ENTRYPOINT")[-1]) + words(all_of(dockerfile, "CMD")[-1])
    assert command == ["pyregistry", "serve", CONFIG_PATH]


def test_data_volume_and_port_are_the_reference_images(
    dockerfile: list[tuple[str, str]],
) -> None:
    assert DATA_DIR in [path for v in all_of(dockerfile, "VOLUME") for path in words(v)]
    assert str(PORT) in [
        port.split("/")[0] for e in all_of(dockerfile, "EXPOSE") for port in e.split()
    ]


def test_runs_as_a_non_root_user_owning_the_data(dockerfile: list[tuple[str, str]]) -> None:
    user = all_of(dockerfile, "USER")[-1].split(":")[0]
    assert user not in ("root", "0", "")
    setup = " ".join(all_of(dockerfile, "RUN"))
    assert "useradd" in setup and f" {user}" in setup
    assert f"chown {user}:{user} {DATA_DIR}" in setup or f"chown {user} {DATA_DIR}" in setup


def test_the_shipped_config_loads_and_matches_the_image() -> None:
    config = load_config(str(REPO / "packaging/config.yml"), environ={})
    assert config.storage.driver == "filesystem"
    assert config.storage.parameters == {"rootdirectory": DATA_DIR}
    listener = parse_addr(config.http.addr, config.http.net)
    assert listener.port == PORT
    assert listener.host in ("", "0.0.0.0", "::")  # reachable from outside the container
    assert config.health["storagedriver"]["enabled"] is True
