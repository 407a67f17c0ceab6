"""Typed settings declared once: each field of a section's dataclass names its key(s) in
``config.yml`` and its shape; the shape table and the conversion are derived from that.

``setting(INT, "tag.concurrencylimit")`` declares a field read from that dotted path
(relative to the section; the field's own name when no path is given). Several paths
are spellings of one setting (redis ``pool.maxactive`` in 2.8, ``poolsize`` in 3.x): the
first one written wins. :func:`shape_of` turns a settings class into the
:class:`~pyregistry.config.schema.Struct` the loader checks documents against (unknown
keys, types, required keys, Go field names for ``REGISTRY_*`` overrides);
:func:`build` turns a checked mapping into an instance. Durations become seconds
(float), choices lower case, and an unset or empty value leaves the field's default.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar, cast

from pyregistry.config.duration import parse_duration
from pyregistry.config.schema import (
    AnyValue,
    ListOf,
    MapOf,
    Node,
    OneOf,
    Scalar,
    Struct,
    check,
)

T = TypeVar("T")
_META = "pyregistry.setting"


@dataclass(frozen=True)
class Key:
    """Where a field is written and in which shape."""

    node: Node
    paths: tuple[str, ...]
    required: bool = False
    #: Applied to the converted value (a list of ``{method, rate}`` -> a dict...).
    convert: Callable[[Any], Any] | None = None


def setting(
    node: Node,
    *paths: str,
    default: Any = None,
    factory: Callable[[], Any] | None = None,
    required: bool = False,
    convert: Callable[[Any], Any] | None = None,
) -> Any:
    """A dataclass field read from ``paths`` (default: the field's name) in shape ``node``."""
    meta = {_META: Key(node, paths, required, convert)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def section(cls: type) -> Struct:
    """``shape_of(cls)`` as a field's node: a nested settings class (``http.tls``)."""
    return shape_of(cls)


def _keys(cls: type) -> list[tuple[str, Key]]:
    found = []
    for item in fields(cls):
        key = item.metadata.get(_META)
        if isinstance(key, Key):
            found.append((item.name, key))
    return found


@functools.cache
def shape_of(cls: type) -> Struct:
    """The shape a settings class declares; ``cls.GO_NAMES`` maps Go field names that differ
    from the YAML key (``EVENTCONFIG`` -> ``events``) for the environment overrides."""
    tree: dict[str, Any] = {}
    required: dict[str, list[str]] = {}
    for name, key in _keys(cls):
        for path in key.paths or (name,):
            *parents, leaf = path.split(".")
            level = tree
            for part in parents:
                level = level.setdefault(part, {})
            level[leaf] = key.node
            if key.required:
                required.setdefault(".".join(parents), []).append(leaf)
    return _struct(tree, "", required, cls)


def _struct(tree: dict[str, Any], at: str, required: dict[str, list[str]], cls: Any) -> Struct:
    nodes: dict[str, Node] = {}
    for key, value in tree.items():
        inner = f"{at}.{key}" if at else key
        nodes[key] = _struct(value, inner, required, None) if isinstance(value, dict) else value
    go_names = getattr(cls, "GO_NAMES", {}) if cls is not None else {}
    return Struct(nodes, env_names=dict(go_names), required=tuple(required.get(at, ())), model=cls)


class Section(MutableMapping[str, Any]):
    """A top-level section whose settings class also reads as the section as written
    (after environment overrides, durations still ``"10s"``): for tools that rewrite
    documents (embedding) and for inspecting what was written. Changing it (a test
    dropping ``queue``) re-reads the typed fields from it. Subclasses are dataclasses with
    ``eq=False``: two sections are equal when written the same; ``NAME`` is their key."""

    NAME: ClassVar[str] = ""
    _written: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        return self._written[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._written)

    def __len__(self) -> int:
        return len(self._written)

    def __setitem__(self, key: str, value: Any) -> None:
        self._reread({**self._written, key: value})

    def __delitem__(self, key: str) -> None:
        self._reread({k: v for k, v in self._written.items() if k != key})

    @classmethod
    def read(cls, written: Mapping[str, Any], source: str = "<document>") -> Any:
        """The section as written (not yet checked) -> its settings; ConfigError if bad."""
        return build(cls, check(shape_of(cls), copy.deepcopy(dict(written)), cls.NAME, source))

    def _reread(self, written: dict[str, Any]) -> None:
        cls = type(self)
        fresh = cls.read(written, "<code>")
        for item in fields(cast(Any, cls)):
            setattr(self, item.name, getattr(fresh, item.name))
        self._written = fresh._written


def build(cls: type[T], section: Mapping[str, Any] | None) -> T:
    """An instance of ``cls`` from a mapping already checked against ``shape_of(cls)``."""
    values: dict[str, Any] = {}
    for name, key in _keys(cls):
        raw = _first(_lookup(section, path) for path in key.paths or (name,))
        if raw is None:
            continue
        value = convert(key.node, raw)
        values[name] = key.convert(value) if key.convert is not None else value
    instance = cls(**values)
    if isinstance(instance, Section):
        instance._written = dict(section or {})
    return instance


def convert(node: Node, value: Any) -> Any:
    """A checked value in the Python type its shape stands for."""
    if isinstance(node, Scalar):
        return _scalar(node, value)
    if isinstance(node, ListOf):
        return [convert(node.item, item) for item in value or []]
    if isinstance(node, MapOf):
        return {str(key): convert(node.value, item) for key, item in (value or {}).items()}
    if isinstance(node, Struct) and node.model is not None:
        return build(node.model, value)
    if isinstance(node, Struct | OneOf):
        return dict(value or {})
    assert isinstance(node, AnyValue)
    return value


def _scalar(node: Scalar, value: Any) -> Any:
    if value is None:
        return "" if node.kind == "str" else None
    if node.kind == "duration":
        return parse_duration(value)
    if node.kind == "choice":
        return str(value).lower()
    if node.kind == "str":
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    return value  # bool, int, count: checked to be of that type


def _lookup(section: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(section, Mapping):
            return None
        section = section.get(part)
    return section


def _first(values: Any) -> Any:
    return next((value for value in values if value is not None and value != ""), None)
