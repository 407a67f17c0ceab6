"""Progress of a long collection: one updating line on a terminal, log lines otherwise.

A collection of a large root runs for minutes to hours, so the operator sees the phase,
the items done (of how many, when known), the rate and an ETA. On a terminal the line is
rewritten in place (at most ten times a second); when the output is a file or a journal
a plain line is written every ``interval`` seconds instead, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

REDRAW_SECONDS = 0.1
LOG_INTERVAL_SECONDS = 10.0


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress:
    """Reports phase, count, rate and ETA to ``stream`` (stderr by default).

    ``enabled=False`` (``--quiet``) reports nothing; ``interactive`` defaults to whether
    the stream is a terminal.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool = True,
        interactive: bool | None = None,
        interval: float = LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = interactive if interactive is not None else bool(isatty and isatty())
        self.interval = interval
        self.clock = clock
        self.name = ""
        self.total: int | None = None
        self.done = 0
        self._phase_started = clock()
        self._last_output = 0.0
        self._line_open = False

    def phase(self, name: str, total: int | None = None) -> None:
        """Start a phase (ending the previous one's line with its final count)."""
        self._finish_phase()
        self.name, self.total, self.done = name, total, 0
        self._phase_started = self._last_output = self.clock()
        if self.enabled and not self.interactive:
            self._write_line(f"{name}: started" + (f", {total} to do" if total else ""))

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = self.clock()
        if self.interactive and now - self._last_output >= REDRAW_SECONDS:
            self._last_output = now
            self.stream.write("\r\x1b[K" + self.describe())
            self.stream.flush()
            self._line_open = True
        elif not self.interactive and now - self._last_output >= self.interval:
            self._last_output = now
            self._write_line(self.describe())

    def interrupt(self) -> None:
        """End the updating line so that other output starts on a line of its own."""
        self._end_line()

    def close(self) -> None:
        self._finish_phase()
        self.name = ""

    def _finish_phase(self) -> None:
        if self.enabled and self.name:
            if self.interactive:
                self.stream.write("\r\x1b[K" + self.describe())
                self._line_open = True
                self._end_line()
            else:
                self._write_line(self.describe())
        self._end_line()

    def describe(self) -> str:
        """``sweep blobs: 1200/5000 (24%), 350/s, ETA 11s``"""
        elapsed = max(self.clock() - self._phase_started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.name}: {self.done}"
        if self.total is not None:
            percent = 100 * self.done / self.total if self.total else 100
            text += f"/{self.total} ({percent:.0f}%)"
        text += f", {rate:.1f}/s" if rate < 10 else f", {rate:.0f}/s"
        if self.total is not None and rate > 0 and self.done < self.total:
            text += f", ETA {format_duration((self.total - self.done) / rate)}"
        return text

    def _write_line(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _end_line(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False
