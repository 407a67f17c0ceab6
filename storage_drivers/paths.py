"""The one place where driver paths are checked.

Every driver method calls :func:`check_path` before touching its backend, so no request,
however it was built upstream, can name something outside the driver's root.
"""

from __future__ import annotations

import re

from storage_drivers.errors import InvalidPath

PATH_PATTERN = re.compile(r"(/[A-Za-z0-9._-]+)+")
#: The grammar without ``.`` and ``..`` components, in one match (every driver call
#: checks its path; splitting it to look for them cost as much as the match).
_CHECKED = re.compile(r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._-]+)+")


def check_path(path: str, *, driver: str = "", allow_root: bool = False) -> str:
    """Return ``path`` unchanged if it is a valid driver path, else raise InvalidPath.

    ``/`` itself is valid only where ``allow_root`` is set (list and walk).
    Components ``.`` and ``..`` match the grammar's characters but are refused: they
    would let a path climb out of the root on a filesystem.
    """
    if not isinstance(path, str):
        raise InvalidPath(repr(path), driver=driver)
    if allow_root and path == "/":
        return path
    if _CHECKED.fullmatch(path) is None:
        raise InvalidPath(path, driver=driver)
    return path
