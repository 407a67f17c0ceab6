"""``REGISTRY_*`` environment overrides, applied the way distribution applies them.

* Variables are applied in lexical order of their names, so ``REGISTRY_STORAGE=s3``
  (which replaces the whole storage section) comes before ``REGISTRY_STORAGE_S3_REGION``.
* The name after ``REGISTRY_`` is split on ``_`` and walks the document case-insensitively.
  Fixed sections match their keys (or the Go field name, e.g. ``HEALTH_FILECHECKERS``);
  free-form maps (driver parameters, ``log.fields``, headers) create missing keys in lower
  case; lists take an index, and the index one past the end appends.
* The value is YAML; for a string setting the text is taken as is.
* A name that matches no setting is ignored with a warning, as distribution does (it is
  how ``REGISTRY_CONFIGURATION_PATH`` and unrelated variables pass through).
* Since ``_`` separates levels, a key that itself contains ``_`` (azure's ``max_retries``,
  gcs's ``credentials.project_id``) cannot be reached: set it in the file, or set its whole
  parent from one variable (``REGISTRY_STORAGE_AZURE='{...}'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from pyregistry.config.errors import ConfigError
from pyregistry.config.schema import AnyValue, ListOf, MapOf, Node, OneOf, Scalar, Struct

PREFIX = "REGISTRY_"
#: Variables that configure the process rather than the document.
NOT_OVERRIDES = frozenset({"REGISTRY_CONFIGURATION_PATH"})


class _Ignored(Exception):
    """The variable names no setting; distribution warns and moves on."""


def apply_env_overrides(
    document: dict[str, Any], environ: Mapping[str, str], schema: Node
) -> list[str]:
    """Apply every ``REGISTRY_*`` variable of ``environ`` to ``document`` in place.

    Returns warnings for ignored variables; raises :class:`ConfigError` for a value that
    does not parse or an index that does not exist.
    """
    warnings: list[str] = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in NOT_OVERRIDES:
            continue
        parts = name[len(PREFIX) :].split("_")
        if not all(parts):
            warnings.append(f"ignoring environment variable {name}: empty path element")
            continue
        try:
            new = _override(document, schema, [p.upper() for p in parts], environ[name], name)
        except _Ignored as why:
            warnings.append(f"ignoring unrecognized environment variable {name}{why}")
            continue
        document.clear()
        document.update(new)
    return warnings


def _override(current: Any, node: Node, parts: list[str], payload: str, name: str) -> Any:
    """The value that replaces ``current`` once the override below it is applied."""
    if not parts:
        return _parse(payload, node, name)
    head, rest = parts[0], parts[1:]
    if isinstance(node, Struct):
        key = _struct_key(node, head)
        if key is None:
            raise _Ignored()
        base = dict(current) if isinstance(current, dict) else {}
        base[key] = _override(base.get(key), node.fields[key], rest, payload, name)
        return base
    if isinstance(node, OneOf):
        if isinstance(current, str):
            current = {current: None}
        key = _map_key(current, head)
        fixed = {k.upper(): k for k in node.fixed}
        child: Node = node.fixed[fixed[head]] if head in fixed else MapOf(AnyValue())
        return _set_in_map(current, key, child, rest, payload, name)
    if isinstance(node, MapOf):
        return _set_in_map(current, _map_key(current, head), node.value, rest, payload, name)
    if isinstance(node, ListOf) or (isinstance(node, AnyValue) and isinstance(current, list)):
        item = node.item if isinstance(node, ListOf) else AnyValue()
        return _set_in_list(current, head, item, rest, payload, name)
    if isinstance(node, AnyValue) and (current is None or isinstance(current, dict)):
        return _set_in_map(current, _map_key(current, head), node, rest, payload, name)
    raise _Ignored(f" ({head} is below a single value)")


def _set_in_map(
    current: Any, key: str, child: Node, rest: list[str], payload: str, name: str
) -> dict[str, Any]:
    base = dict(current) if isinstance(current, dict) else {}
    base[key] = _override(base.get(key), child, rest, payload, name)
    return base


def _set_in_list(
    current: Any, head: str, item: Node, rest: list[str], payload: str, name: str
) -> list[Any]:
    if not head.isdigit():
        raise ConfigError(f"non-numeric list index {head!r}", key=name, source="environment")
    index = int(head)
    items = list(current) if isinstance(current, list) else []
    if index > len(items):
        raise ConfigError(
            f"undefined list index {index} (the list has {len(items)} items)",
            key=name,
            source="environment",
        )
    if index == len(items):
        items.append(None)
    items[index] = _override(items[index], item, rest, payload, name)
    return items


def _struct_key(node: Struct, head: str) -> str | None:
    if head in node.env_names:
        return node.env_names[head]
    for key in node.fields:
        if key.upper() == head:
            return key
    return None


def _map_key(current: Any, head: str) -> str:
    """An existing key matching case-insensitively, else the lower-case spelling."""
    if isinstance(current, dict):
        for key in current:
            if str(key).upper() == head:
                return str(key)
    return head.lower()


def _parse(payload: str, node: Node, name: str) -> Any:
    try:
        value = yaml.safe_load(payload) if payload.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML value: {exc}", key=name, source="environment") from None
    if (
        isinstance(node, Scalar)
        and node.kind == "str"
        and not isinstance(value, (str, type(None), dict, list))
    ):
        return payload.strip()
    return value
