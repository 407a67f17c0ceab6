"""A moment in the near future as a person reads it in a log line.

``starting upload purge in 1668.65s`` makes the reader do arithmetic; ``at 14:32 UTC (in
27 min)`` says when to look. Times are UTC, as every other time the registry prints.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def in_words(seconds: float) -> str:
    """``42 s``, ``27 min``, ``1 h 5 min``, ``2 d 3 h``: rounded to what matters."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes = round(whole / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def when_in_words(delay_seconds: float, now: datetime | None = None) -> str:
    """``14:32 UTC (in 27 min)``; the date is added when it is not today
    (``2026-12-05 00:12 UTC (in 3 h 40 min)``)."""
    start = (now or datetime.now(UTC)).astimezone(UTC)
    at = start + timedelta(seconds=max(0.0, delay_seconds))
    clock = f"{at:%H:%M:%S}" if delay_seconds < 60 else f"{at:%H:%M}"
    if at.date() != start.date():
        clock = f"{at:%Y-%m-%d} {clock}"
    return f"{clock} UTC (in {in_words(delay_seconds)})"
