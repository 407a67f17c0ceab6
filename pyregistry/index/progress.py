"""Progress of a rebuild: one rewritten line on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

log = logging.getLogger("pyregistry.index")

#: Seconds between log lines (non-terminal) and between redraws (terminal).
LOG_EVERY = 10.0
DRAW_EVERY = 0.2


class Progress(Protocol):
    def start(self, unit: str) -> None: ...

    def update(self, done: int) -> None: ...

    def finish(self, done: int, outcome: str) -> None: ...


class _Reporter:
    def __init__(self, emit: Callable[[str, bool], None], every: float) -> None:
        self._emit = emit
        self._every = every
        self._unit = "items"
        self._started = time.monotonic()
        self._next = 0.0

    def start(self, unit: str) -> None:
        self._unit = unit
        self._started = time.monotonic()
        self._next = self._started + self._every

    def _line(self, done: int) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        return f"index rebuild: {done} {self._unit} scanned, {done / elapsed:.1f}/s"

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._every
            self._emit(self._line(done), False)

    def finish(self, done: int, outcome: str) -> None:
        elapsed = time.monotonic() - self._started
        self._emit(f"{self._line(done)}, {outcome} in {elapsed:.1f}s", True)


def log_progress() -> Progress:
    """Plain ``pyregistry.index`` log lines every ``LOG_EVERY`` seconds."""
    return _Reporter(lambda line, final: log.info(line), LOG_EVERY)


def terminal_progress(stream: TextIO | None = None) -> Progress:
    """A line redrawn in place when ``stream`` is a terminal, else log-style lines."""
    out = stream or sys.stderr
    if not out.isatty():
        return _Reporter(lambda line, final: print(line, file=out, flush=True), LOG_EVERY)

    def draw(line: str, final: bool) -> None:
        out.write("\r\x1b[2K" + line + ("\n" if final else ""))
        out.flush()

    return _Reporter(draw, DRAW_EVERY)
