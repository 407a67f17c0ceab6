"""``exec``: a Docker credential helper giving the login to another registry, as
distribution's ``proxy.exec`` (3.1); a mirror's upstream and a replication target take
it (:class:`pyregistry.client.CredentialHelper` runs it)."""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.declare import setting
from pyregistry.config.schema import DURATION, STR


@dataclass
class HelperSettings:
    """``command`` runs with ``get``; its answer is kept ``lifetime`` (unset: for good,
    0: never)."""

    command: str = setting(STR, default="")
    lifetime: float | None = setting(DURATION)
