"""An upload session's ``startedat`` marker: RFC 3339 as distribution writes and reads it
(the purger ages sessions by it, whichever registry started them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"\.(\d+)")


def format_started_at(moment: datetime) -> str:
    """RFC 3339 in UTC, seconds precision, as distribution writes ``startedat``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_started_at(text: str) -> datetime | None:
    """Parse RFC 3339 (also Go's nanosecond form); None when it is not a timestamp."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
