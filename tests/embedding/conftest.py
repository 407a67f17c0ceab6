"""The plugin's fixtures for these tests even when pyregistry is not pip-installed (then
its ``pytest11`` entry point is not active). When it is, these names simply shadow the
plugin's own identical fixtures."""

from pyregistry.pytest_plugin import (  # noqa: F401
    pytest_configure,
    registry,
    registry_factory,
    registry_session,
)
