"""What a policy copies and under which name: repository and tag patterns (shell-style
globs, ``*`` not crossing ``/``, ``**`` crossing it) and the destination naming.

Patterns are the user's words in the config, so they are globs, as in Harbor's and
zot's filters; a rewrite is a regular expression because only that can move parts of a
name around (``local/tomcat`` -> ``remote/tomcat``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pyregistry.config.sections.replication import DestinationSettings, PatternSettings


def glob_regex(pattern: str) -> re.Pattern[str]:
    """``team/*`` matches ``team/app`` (not ``team/a/b``); ``team/**`` matches both;
    ``?`` is one character; ``{a,b}`` either word."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            words = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(re.escape(w) for w in words) + ")")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


@dataclass(frozen=True)
class Patterns:
    """Include (empty: everything) minus exclude."""

    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]

    @classmethod
    def from_settings(cls, settings: PatternSettings) -> Patterns:
        return cls(_compile(settings.include), _compile(settings.exclude))

    @property
    def everything(self) -> bool:
        return not self.include and not self.exclude

    def matches(self, name: str) -> bool:
        if self.include and not any(p.fullmatch(name) for p in self.include):
            return False
        return not any(p.fullmatch(name) for p in self.exclude)


def _compile(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(glob_regex(p) for p in patterns)


class NamingError(ValueError):
    """A source name the destination naming cannot map (wrong prefix, no match)."""


@dataclass(frozen=True)
class Naming:
    """Source repository name -> destination repository name."""

    mode: str
    prefix: str
    pattern: re.Pattern[str] | None
    replacement: str

    @classmethod
    def from_settings(cls, settings: DestinationSettings) -> Naming:
        pattern = re.compile(settings.pattern) if settings.naming == "rewrite" else None
        return cls(settings.naming, settings.prefix.strip("/"), pattern, settings.replacement)

    def destination(self, name: str) -> str:
        if self.mode == "add-prefix" and self.prefix:
            return f"{self.prefix}/{name}"
        if self.mode == "strip-prefix" and self.prefix:
            if not name.startswith(self.prefix + "/"):
                raise NamingError(f"{name} does not start with {self.prefix}/")
            return name[len(self.prefix) + 1 :]
        if self.mode == "rewrite" and self.pattern is not None:
            if not self.pattern.fullmatch(name):
                raise NamingError(f"{name} does not match {self.pattern.pattern}")
            return self.pattern.sub(self.replacement, name, count=1)
        return name

    def maps(self, name: str) -> bool:
        try:
            self.destination(name)
        except NamingError:
            return False
        return True
