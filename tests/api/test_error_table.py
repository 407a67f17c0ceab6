"""The error table: each error registered once, with the status the contract names, and
every error class in the registry drawn from it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pyregistry
import pyregistry.api.errors as api_errors
import pyregistry.auth.access as auth_access
import pyregistry.connections.refusal as refusal
import pyregistry.storage.errors as storage_errors
from pyregistry import errcode
from pyregistry.errcode import RegistryError

PACKAGE = Path(pyregistry.__file__).parent


def all_error_classes() -> list[type[RegistryError]]:
    found: list[type[RegistryError]] = []
    pending = [RegistryError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_names_are_unique_and_registered_once() -> None:
    names = [d.name for d in errcode.descriptors()]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="already registered"):
        errcode.register("BLOB_UNKNOWN", "BLOB_UNKNOWN", "again", 404)


def test_every_error_class_uses_a_table_entry() -> None:
    # Imported above so that their classes are known: storage, API, auth, connections.
    assert storage_errors and api_errors and auth_access and refusal
    table = set(errcode.descriptors())
    classes = all_error_classes()
    assert len(classes) > 20
    for cls in classes:
        assert cls.descriptor in table, cls


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (storage_errors.RangeInvalid(), "BLOB_UPLOAD_INVALID", 416),
        (storage_errors.BlobUploadInvalid(), "BLOB_UPLOAD_INVALID", 400),
        (storage_errors.ManifestTooLarge(), "SIZE_INVALID", 413),
        (storage_errors.SizeInvalid(), "SIZE_INVALID", 400),
        (storage_errors.BlobUploadUnknown(), "BLOB_UPLOAD_UNKNOWN", 404),
        (storage_errors.UnsupportedDigestAlgorithm(), "DIGEST_INVALID", 400),
        (storage_errors.StorageError(), "UNKNOWN", 500),
        (storage_errors.StorageFull(), "UNKNOWN", 507),
        (storage_errors.Unsupported(), "UNSUPPORTED", 405),
        (api_errors.RouteUnknown(), "UNSUPPORTED", 404),
        (api_errors.RangeNotSatisfiable(10, "bytes=20-"), "SIZE_INVALID", 416),
        (api_errors.Unauthorized(), "UNAUTHORIZED", 401),
        (storage_errors.Denied(), "DENIED", 403),
        (api_errors.TooManyRequests(), "TOOMANYREQUESTS", 429),
        (api_errors.ServiceUnavailable(), "UNAVAILABLE", 503),
        (auth_access.AuthChallenge("authentication required", challenge=None), "UNAUTHORIZED", 401),
        (refusal.TooManyConnections(), "UNAVAILABLE", 503),
    ],
)
def test_statuses(error: RegistryError, code: str, status: int) -> None:
    assert (error.code, error.status) == (code, status)
    assert error.message == error.descriptor.message


def test_an_occurrence_may_name_another_entry() -> None:
    locked = auth_access.AuthChallenge("later", challenge=None, error=errcode.TOOMANYREQUESTS)
    assert (locked.code, locked.status, locked.message) == ("TOOMANYREQUESTS", 429, "later")
    assert api_errors.error_response(locked).status_code == 429


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("layer", ["storage", "errcode.py"])
def test_storage_and_the_table_do_not_import_the_api(layer: str) -> None:
    root = PACKAGE / layer
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    assert files
    for path in files:
        offending = {m for m in imported_modules(path) if m.startswith("pyregistry.api")}
        assert not offending, f"{path.relative_to(PACKAGE)} imports {offending}"
