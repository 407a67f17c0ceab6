"""The files an embedded registry's ``auth`` section needs, made for it when left out.

A test that turns auth on wants to say "this user, this password" and nothing more, so
``serve(auth=..., credentials=(user, password))`` works without files of its own: when
the section names no users file (``auth.token.issue.users``, ``auth.htpasswd.path``), the
registry gets a temporary one holding exactly the ``credentials`` user; when the built-in
token service names no signing ``key``, a temporary path where one is generated. Both
live in a directory the registry removes when it stops. A users file the caller names
but that does not exist yet is created holding the ``credentials`` user (rather than the
random ``docker`` user ``pyregistry serve`` would make); one that exists is used as it is
(it is theirs: the registry does not add users to it).
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from pyregistry.auth.htpasswd import set_user

PREFIX = "pyregistry-embedded-auth-"


def with_private_auth_files(
    auth: Mapping[str, Any] | None,
    credentials: tuple[str, str] | None,
    temp_dirs: list[str],
) -> Any:
    """``auth`` with a temporary users file (holding ``credentials``) and signing key path
    filled in where it names none; anything else (including ``None``) comes back as it is."""
    if not isinstance(auth, Mapping):
        return auth
    result: dict[str, Any] = copy.deepcopy(dict(auth))
    token = result.get("token")
    htpasswd = result.get("htpasswd")
    if isinstance(token, dict) and isinstance(token.get("issue"), dict):
        issue = token["issue"]
        if not issue.get("key"):
            issue["key"] = os.path.join(_directory(temp_dirs), "token.key")
        if not issue.get("users"):
            issue["users"] = _users_file(credentials, temp_dirs)
        else:
            _create_named(issue["users"], credentials)
    elif isinstance(htpasswd, dict):
        if not htpasswd.get("path"):
            htpasswd["path"] = _users_file(credentials, temp_dirs)
        else:
            _create_named(htpasswd["path"], credentials)
        htpasswd.setdefault("realm", "pyregistry")
    return result


def _create_named(path: object, credentials: tuple[str, str] | None) -> None:
    """A users file the caller named but that is not there yet: with the credentials user."""
    if isinstance(path, str) and credentials is not None and not os.path.exists(path):
        set_user(path, *credentials)


def _directory(temp_dirs: list[str]) -> str:
    """The registry's one temporary directory for auth files (made on first use)."""
    for path in temp_dirs:
        if os.path.basename(path).startswith(PREFIX):
            return path
    path = tempfile.mkdtemp(prefix=PREFIX)
    temp_dirs.append(path)
    return path


def _users_file(credentials: tuple[str, str] | None, temp_dirs: list[str]) -> str:
    """A bcrypt htpasswd file with the ``credentials`` user, or with no user at all (then
    nobody can log in, rather than a random ``docker`` user nobody knows)."""
    path = os.path.join(_directory(temp_dirs), "htpasswd")
    if credentials is not None:
        set_user(path, *credentials)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("# no users: serve(credentials=(user, password)) adds one\n")
    return path
