"""pytest plugin (entry point ``pytest11``): real registries as fixtures.

* ``registry`` - a fresh, empty in-memory registry for one test;
* ``registry_session`` - one registry shared by the whole session (preloaded from the
  ``pyregistry_preload`` ini option);
* ``registry_factory`` - ``registry_factory(**serve_options)`` starts more (auth,
  filesystem storage, notifications...), all stopped after the test.

``@pytest.mark.registry_preload(SOURCE, REPOSITORY=None, tag=None)`` pushes an OCI layout
directory, an OCI archive or a ``docker save`` tarball (a path relative to the test file)
into ``registry`` before the test runs. Each fixture yields an
:class:`pyregistry.EmbeddedRegistry`: ``.url``, ``.host``, ``.push_random_image()``,
``.push_artifact()``, ``.get_manifest()``, ``.preload()``...

The embedding itself is imported when a fixture is first used, so having the plugin
installed costs a test run nothing.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pyregistry.embedding import EmbeddedRegistry

PRELOAD_MARK = "registry_preload"
PRELOAD_INI = "pyregistry_preload"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        PRELOAD_INI,
        type="linelist",
        default=[],
        help="images for the registry_session fixture, one per line: "
        "SOURCE [REPOSITORY [TAG]] (SOURCE: OCI layout dir, OCI archive or docker archive; "
        "relative to the rootdir)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{PRELOAD_MARK}(source, repository=None, tag=None): push an OCI layout, OCI "
        "archive or docker archive into the `registry` fixture before the test",
    )


def _start(**options: Any) -> EmbeddedRegistry:
    from pyregistry.embedding import serve

    return serve(**options).start()


def _preload_marks(registry: EmbeddedRegistry, node: pytest.Item, root: Path) -> None:
    # Closest marks last, so a test's own preloads win over its class's or module's tags.
    for mark in reversed(list(node.iter_markers(PRELOAD_MARK))):
        if not mark.args:
            raise pytest.UsageError(f"@pytest.mark.{PRELOAD_MARK} needs a source path")
        source, *rest = mark.args
        registry.preload(root / Path(source), *rest, **mark.kwargs)


@pytest.fixture
def registry(request: pytest.FixtureRequest) -> Iterator[EmbeddedRegistry]:
    """A fresh in-memory registry (deletes enabled) on 127.0.0.1, stopped after the test;
    holds whatever ``@pytest.mark.registry_preload`` marks name."""
    reg = _start()
    try:
        _preload_marks(reg, request.node, request.path.parent)
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def registry_session(pytestconfig: pytest.Config) -> Iterator[EmbeddedRegistry]:
    """One in-memory registry for the whole session, preloaded from the
    ``pyregistry_preload`` ini option. Tests share it: use distinct repository names."""
    reg = _start()
    try:
        for line in _preload_lines(pytestconfig):
            words = shlex.split(line)
            if not words:
                continue
            reg.preload(pytestconfig.rootpath / words[0], *words[1:2], tag=_at(words, 2))
        yield reg
    finally:
        reg.stop()


def _preload_lines(config: pytest.Config) -> list[str]:
    try:
        lines: list[str] = config.getini(PRELOAD_INI)
    except ValueError:  # fixtures imported without the plugin's hooks: no such option
        return []
    return lines


def _at(words: list[str], index: int) -> str | None:
    return words[index] if len(words) > index else None


@pytest.fixture
def registry_factory() -> Iterator[Callable[..., EmbeddedRegistry]]:
    """``registry_factory(**options)`` starts a registry with :func:`pyregistry.serve`'s
    options (``storage``, ``auth``, ``notifications``, ``delete``, ``credentials``, a
    ``config`` document...); every one is stopped after the test."""
    started: list[EmbeddedRegistry] = []

    def start(**options: Any) -> EmbeddedRegistry:
        reg = _start(**options)
        started.append(reg)
        return reg

    try:
        yield start
    finally:
        errors = []
        for reg in reversed(started):
            try:
                reg.stop()
            except Exception as exc:  # noqa: BLE001 - stop them all, then report
                errors.append(exc)
        if errors:
            raise errors[0]
