"""Go ``time.Duration`` values as distribution's config spells them (``10s``, ``1h30m``).

YAML integers are nanoseconds, as Go's YAML decoder reads them into a Duration; strings
follow ``time.ParseDuration``. Values come back in seconds (float).
"""

from __future__ import annotations

import re

_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a Go duration string, or an integer number of nanoseconds.

    Raises ``ValueError`` with a message fit for a config error on anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int):
        return value * 1e-9
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}")
    text = value.strip()
    sign = 1.0
    if text[:1] in ("+", "-"):
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise ValueError(f"invalid duration {value!r}")
    total = 0.0
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            if re.fullmatch(r"[0-9]+\.?[0-9]*", text[pos:]):
                raise ValueError(f"missing unit in duration {value!r} (use ns, us, ms, s, m or h)")
            raise ValueError(f"invalid duration {value!r}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def format_duration(seconds: float) -> str:
    """A Go-style rendering (``1.5s``, ``12.3ms``, ``850µs``) for log lines."""
    if seconds >= 1:
        return f"{seconds:.6g}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.6g}ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.6g}µs"
    return f"{seconds * 1e9:.0f}ns"
