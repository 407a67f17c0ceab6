"""The management API's routes, declared once: the dispatcher matches requests against
them and the OpenAPI document is generated from them, so every route is documented.

A path template names its parameters in braces; ``{name}`` (a repository) may hold
slashes, every other parameter is one path segment.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

#: A repository name: may contain ``/``; what follows it is matched after it.
MULTI_SEGMENT = {"name"}


@dataclass(frozen=True)
class Query:
    name: str
    kind: str = "string"  # "string", "integer", "boolean"
    description: str = ""
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Body:
    """A JSON request body: ``fields`` name -> (JSON type, required)."""

    fields: dict[str, tuple[str, bool]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    summary: str
    tag: str
    query: tuple[Query, ...] = ()
    body: Body | None = None
    #: The view it answers with (a schema name), None for 204 No Content.
    returns: str | None = None
    #: Who may call it, for the document.
    access: str = "see the project"
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = ""
        for literal, parameter in re.findall(r"([^{]*)(?:\{(\w+)\})?", self.path):
            regex += re.escape(literal)
            if parameter:
                part = ".+?" if parameter in MULTI_SEGMENT else "[^/]+"
                regex += f"(?P<{parameter}>{part})"
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$", re.DOTALL))

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        return found.groupdict() if found else None


PAGE = (
    Query("offset", "integer", "items to skip"),
    Query("limit", "integer", "items per page (1-500, default 50)"),
)
