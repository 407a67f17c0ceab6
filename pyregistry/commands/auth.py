"""``pyregistry user|project|token-server``: the access-control commands, defined in
:mod:`pyregistry.auth.cli`."""

from pyregistry.auth.cli import register

__all__ = ["register"]
