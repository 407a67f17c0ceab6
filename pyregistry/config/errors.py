"""The one error a bad configuration raises, naming the key and the file."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration file or environment override that cannot be used.

    ``key`` is the dotted key path (``http.addr``, ``health.file[0].interval``) when the
    problem is one key; ``source`` is the file (or ``<defaults>``). ``str()`` gives the
    whole message, ready for stderr.
    """

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None) -> None:
        self.message = message
        self.key = key
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = ": ".join(part for part in (self.source, self.key) if part)
        return f"{where}: {self.message}" if where else self.message
