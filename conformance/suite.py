"""Imports every test module so their tests register; the CLI and tests load this."""

from conformance import (  # noqa: F401  (imported for their registrations)
    discovery,
    errors,
    management,
    manifests,
    pull,
    push,
    referrers,
    sparse,
)
from conformance.runner import REGISTRY

__all__ = ["REGISTRY"]
