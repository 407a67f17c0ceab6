"""Debian's chromium driven by Playwright, the way the UI tests use it.

The browser is the system's ``/usr/bin/chromium`` (``scripts/test.sh`` installs the
Debian package): Playwright's own browser download is never used. Screenshots go to
``ui-screenshots/`` at the top of the checkout (or ``$PYREGISTRY_UI_SCREENSHOTS``), so a
reviewer can look at every main page after a run.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("PYREGISTRY_UI_SCREENSHOTS") or REPO_ROOT / "ui-screenshots")


def chromium_path() -> str:
    """The system chromium; an AssertionError saying how to get it when it is missing."""
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    assert found, (
        "the UI tests need Debian's chromium (`apt-get install chromium`; scripts/test.sh "
        "installs it)"
    )
    return found


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


_TAKEN: list[Path] = []
#: When this process imported the module: the controller of a run on several workers
#: (pytest-xdist) took no screenshot itself, and finds its workers' by their time.
_STARTED = time.time()


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as ``<SCREENSHOTS>/<name>.png``; its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _TAKEN.append(path)
    return path


def taken() -> list[Path]:
    """The screenshots this run saved (the terminal summary names their directory)."""
    if _TAKEN or not SCREENSHOTS.is_dir():
        return list(_TAKEN)
    return [path for path in SCREENSHOTS.glob("*.png") if path.stat().st_mtime >= _STARTED]
