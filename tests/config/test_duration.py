"""Go-style durations, as distribution's config writes them."""

from __future__ import annotations

import pytest

from pyregistry.config import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10.0),
        ("300ms", 0.3),
        ("168h", 168 * 3600.0),
        ("1h30m", 5400.0),
        ("2h10m5s", 7805.0),
        ("1.5s", 1.5),
        (".5m", 30.0),
        ("250us", 250e-6),
        ("250µs", 250e-6),
        ("100ns", 100e-9),
        ("0", 0.0),
        ("-3s", -3.0),
        ("+4m", 240.0),
    ],
)
def test_parses_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_integers_are_nanoseconds_like_go_yaml() -> None:
    assert parse_duration(500) == pytest.approx(500e-9)
    assert parse_duration(1_000_000_000) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", ["10", "ten seconds", "1d", "s", "", "1h 30m", 1.5, True, None])
def test_rejects_what_go_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_missing_unit_is_explained() -> None:
    with pytest.raises(ValueError, match="missing unit"):
        parse_duration("30")


@pytest.mark.parametrize(
    ("seconds", "text"), [(2.5, "2.5s"), (0.0123, "12.3ms"), (0.000850, "850µs"), (3e-9, "3ns")]
)
def test_formats_like_go(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
