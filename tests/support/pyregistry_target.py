"""Adapter: run pyregistry for the real-client tests on a filesystem storage root.

Uses the API test server (uvicorn on loopback in a thread), the same one behind the
``fs_registry_server`` fixture, but as a context manager so a module-scoped fixture or a
test that hands a storage root to distribution can control its lifetime.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pyregistry.app import create_app
from tests.support.server import filesystem_config, run_server


@contextlib.contextmanager
def run_pyregistry(root: Path | None = None) -> Iterator[tuple[str, str]]:
    """Yield ``(host, url)`` of a pyregistry serving filesystem storage at ``root``.

    Without ``root`` a temporary directory is used and removed afterwards.
    """
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pyregistry-")))
        url = stack.enter_context(run_server(create_app(filesystem_config(root))))
        yield url.removeprefix("http://"), url
