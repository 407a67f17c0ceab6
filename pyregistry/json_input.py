"""JSON from clients (manifests, token headers and claims), with its nesting bounded.

``json.loads`` recurses once per nested array or object: ``[`` three thousand times
raises ``RecursionError``, which no ``except ValueError`` catches, so a hostile body
became a 500. :func:`loads` turns that, and any document nested deeper than
:data:`MAX_DEPTH`, into :class:`JSONTooDeep`, a ``ValueError`` like every other
malformed-JSON error, so callers that already refuse bad JSON refuse this too.

The limit also keeps accepted documents safe for code that walks them recursively. No
manifest, index or token comes close: their deepest values (annotations, platform
features) sit about five levels down.
"""

from __future__ import annotations

import json
from typing import Any

#: The deepest nesting of arrays and objects accepted.
MAX_DEPTH = 64


class JSONTooDeep(ValueError):
    """The document nests arrays or objects deeper than :data:`MAX_DEPTH`."""


def depth_of(document: Any) -> int:
    """How deeply arrays and objects nest in a decoded document (a scalar is 0).

    Iterative, so it is safe on any document ``json.loads`` returned."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def _may_be_deep(data: str | bytes | bytearray) -> bool:
    """Cheap pre-check: fewer opening brackets than the limit cannot nest past it."""
    if isinstance(data, str):
        return data.count("[") + data.count("{") > MAX_DEPTH
    return data.count(b"[") + data.count(b"{") > MAX_DEPTH


def loads(data: str | bytes | bytearray) -> Any:
    """``json.loads`` that raises :class:`JSONTooDeep` (a ValueError) on deep nesting."""
    try:
        document = json.loads(data)
    except RecursionError:
        raise JSONTooDeep(f"JSON nests deeper than {MAX_DEPTH} levels") from None
    if _may_be_deep(data) and depth_of(document) > MAX_DEPTH:
        raise JSONTooDeep(f"JSON nests deeper than {MAX_DEPTH} levels")
    return document
