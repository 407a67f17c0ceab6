"""The vocabulary of shapes (``Scalar``, ``Struct``, ``ListOf``...) and the check that walks
a document against a shape.

The shape of ``config.yml`` itself is not written here: each section's typed settings
class declares its keys (:mod:`pyregistry.config.declare`, :mod:`pyregistry.config.sections`)
and the table is derived from those declarations. ``check`` walks a parsed document
against it, normalises the few short forms (``storage: inmemory``) and raises
:class:`ConfigError` naming the key path, with a "did you mean" hint for unknown keys.
Storage driver parameters, auth provider parameters, middleware options and ``log.fields``
are free-form: their owners check them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyregistry.config.duration import parse_duration
from pyregistry.config.errors import ConfigError


@dataclass(frozen=True)
class Scalar:
    """A leaf: ``str``, ``bool``, ``int``, ``count`` (an int >= 0), ``duration``, or a
    choice among ``choices``."""

    kind: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Struct:
    """Fixed keys. ``env_names`` maps the Go field names (upper-case) that differ from the
    YAML key, since distribution's environment overrides walk Go field names."""

    fields: Mapping[str, Node]
    env_names: Mapping[str, str] = field(default_factory=dict)
    #: Keys that must be present when the mapping is (a health check's ``file``...).
    required: tuple[str, ...] = ()
    #: The typed settings class this mapping is read into (None: kept as a mapping).
    model: Any = None


@dataclass(frozen=True)
class ListOf:
    item: Node
    #: What the error says is expected instead of a non-list ("a list" when empty).
    what: str = "a list"


@dataclass(frozen=True)
class MapOf:
    """Free keys, each value of one shape (headers, ``log.fields``, driver parameters)."""

    value: Node


@dataclass(frozen=True)
class OneOf:
    """distribution's ``storage`` and ``auth``: exactly one provider section (free-form
    parameters) beside some fixed keys; a bare string names a provider with no parameters."""

    what: str
    fixed: Mapping[str, Node] = field(default_factory=dict)
    required: bool = False
    #: Providers whose parameters have a shape (others are free-form).
    known: Mapping[str, Node] = field(default_factory=dict)


@dataclass(frozen=True)
class AnyValue:
    pass


Node = Scalar | Struct | ListOf | MapOf | OneOf | AnyValue

ANY = AnyValue()
STR = Scalar("str")
BOOL = Scalar("bool")
INT = Scalar("int")
DURATION = Scalar("duration")
LEVEL = Scalar("choice", ("error", "warn", "info", "debug"))
STRLIST = ListOf(STR)
COUNT = Scalar("count")
HEADERS = MapOf(ListOf(STR, "a list of values (headers: {Name: [value, ...]})"))


def struct(**fields: Node) -> Struct:
    """Fixed keys, written as keyword arguments."""
    return Struct(fields)


def join(path: str, key: str | int) -> str:
    """``http`` + ``addr`` -> ``http.addr``; ``health.file`` + 0 -> ``health.file[0]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check(node: Node, value: Any, path: str, source: str) -> Any:
    """Validate ``value`` against ``node``; return it with short forms expanded."""

    def fail(message: str, at: str = path) -> ConfigError:
        return ConfigError(message, key=at or None, source=source)

    if value is None or isinstance(node, AnyValue):
        return value
    if isinstance(node, Scalar):
        _check_scalar(node, value, fail)
        return value
    if isinstance(node, ListOf):
        if not isinstance(value, list):
            raise fail(f"expected {node.what}, got {_describe(value)}")
        return [check(node.item, item, join(path, i), source) for i, item in enumerate(value)]
    if isinstance(value, str) and isinstance(node, OneOf):
        value = {value: None}
    if not isinstance(value, dict):
        raise fail(f"expected a mapping, got {_describe(value)}")
    if isinstance(node, MapOf):
        return {
            str(key): check(node.value, item, join(path, str(key)), source)
            for key, item in value.items()
        }
    if isinstance(node, Struct):
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = node.fields.get(key) if isinstance(key, str) else None
            if sub is None:
                raise fail(f"unknown key{_suggest(key, node.fields)}", join(path, str(key)))
            out[key] = check(sub, item, join(path, key), source)
        for key in node.required:
            if out.get(key) in (None, ""):
                raise fail("required", join(path, key))
        return out
    return _check_one_of(node, value, path, source, fail)


def _check_one_of(node: OneOf, value: dict[Any, Any], path: str, source: str, fail: Any) -> Any:
    out: dict[str, Any] = {}
    providers: list[str] = []
    for key, item in value.items():
        key = str(key)
        if key in node.fixed:
            out[key] = check(node.fixed[key], item, join(path, key), source)
            continue
        if item is not None and not isinstance(item, dict):
            raise fail(f"expected a mapping of parameters, got {_describe(item)}", join(path, key))
        providers.append(key)
        out[key] = (
            check(node.known[key], item, join(path, key), source) if key in node.known else item
        )
    if len(providers) > 1:
        raise fail(f"must provide exactly one {node.what}, got: {', '.join(sorted(providers))}")
    if node.required and not providers:
        known = ", ".join(sorted(node.fixed))
        raise fail(f"no {node.what} configured (a key other than {known})")
    return out


def _check_scalar(node: Scalar, value: Any, fail: Any) -> None:
    kind = node.kind
    if isinstance(value, (dict, list)):
        raise fail(f"expected a single value, got {_describe(value)}")
    if kind == "str":
        return  # any scalar reads as its text, as Go's YAML decoder does for strings
    if kind == "bool" and not isinstance(value, bool):
        raise fail(f"expected true or false, got {value!r}")
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise fail(f"expected an integer, got {value!r}")
    if kind == "count" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise fail(f"expected a non-negative integer, got {value!r}")
    if kind == "duration":
        try:
            parse_duration(value)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if kind == "choice" and str(value).lower() not in node.choices:
        raise fail(f"invalid value {value!r}, expected one of: {', '.join(node.choices)}")


def _suggest(key: object, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; known keys: {', '.join(sorted(known))}"


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
