"""TagChecks: until when this process trusts a cached tag without reading its age."""

from __future__ import annotations

from pyregistry.proxy.tag_checks import TagChecks


def test_a_tag_is_trusted_for_the_given_time_then_not() -> None:
    now = [100.0]
    checks = TagChecks(clock=lambda: now[0])
    assert not checks.trusted("up/app", "v1")
    checks.trust("up/app", "v1", 3.0)
    assert checks.trusted("up/app", "v1")
    assert not checks.trusted("up/app", "v2") and not checks.trusted("up/other", "v1")
    now[0] = 102.9
    assert checks.trusted("up/app", "v1")
    now[0] = 103.0
    assert not checks.trusted("up/app", "v1")


def test_forgotten_and_bounded() -> None:
    checks = TagChecks(limit=2)
    checks.trust("up/app", "v1", 60.0)
    checks.forget("up/app", "v1")
    assert not checks.trusted("up/app", "v1")
    for tag in ("a", "b", "c"):
        checks.trust("up/app", tag, 60.0)
    assert checks.trusted("up/app", "c")
    assert not checks.trusted("up/app", "a")  # the memo was full: all were dropped
