"""The layering the storage interfaces exist for, checked on the source (an AST scan):

* nothing under ``pyregistry/storage`` imports the HTTP layer (``pyregistry.api``,
  Starlette) or a feature that wraps it (``pyregistry.notifications``);
* nothing under ``pyregistry/api`` emits an event: no ``.emit(...)`` call and no use of
  the notifications package. Events come from the storage-side wrapper, so a writer that
  is not the API causes them too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pyregistry

PACKAGE = Path(pyregistry.__file__).parent


def modules(subpackage: str) -> Iterator[tuple[Path, ast.Module]]:
    files = sorted((PACKAGE / subpackage).rglob("*.py"))
    assert files, f"no modules under {subpackage}"
    for path in files:
        yield path, ast.parse(path.read_text(), filename=str(path))


def imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports hide the graph"
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_storage_imports_no_http_and_no_feature() -> None:
    forbidden = ("pyregistry.api", "starlette", "pyregistry.notifications", "pyregistry.app")
    offenders = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path, tree in modules("storage")
        for name in sorted(imported(tree))
        if name.startswith(forbidden)
    ]
    assert offenders == []


def test_api_emits_no_event() -> None:
    offenders = []
    for path, tree in modules("api"):
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr == "emit":
                offenders.append(f"{where}:{func.lineno}: .emit(...)")
        offenders += [
            f"{where}: imports {name}"
            for name in imported(tree)
            if name.startswith("pyregistry.notifications")
        ]
    assert offenders == []


def test_the_scan_would_see_an_emission() -> None:
    """The scan itself can fail: an emit call and a forbidden import are found."""
    tree = ast.parse("from pyregistry.api.state import ApiCall\nawait sink.emit('blob.push')")
    calls = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert [c.func.attr for c in calls if isinstance(c.func, ast.Attribute)] == ["emit"]
    assert "pyregistry.api.state" in imported(tree)
