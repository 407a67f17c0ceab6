"""``file_lock``: edits by several processes never interleave, and the hidden lock file is
gone once nobody holds it (it used to stay beside htpasswd and the signing key)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from pyregistry.auth.files import file_lock
from pyregistry.auth.htpasswd import ensure_htpasswd
from pyregistry.auth.issuer import TokenSigner

ROUNDS = 200


def _add_one_repeatedly(path: str) -> None:
    counter = Path(path)
    for _ in range(ROUNDS):
        with file_lock(path):
            value = int(counter.read_text())
            counter.write_text(str(value + 1))  # a lost update shows in the final count


def test_several_processes_never_hold_it_together(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_one_repeatedly, args=(str(counter),)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert int(counter.read_text()) == 4 * ROUNDS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter"]


def test_created_auth_files_leave_no_lock_files(tmp_path: Path) -> None:
    assert ensure_htpasswd(str(tmp_path / "htpasswd")) is not None
    TokenSigner(
        key_path=str(tmp_path / "token.key"),
        cert_path=str(tmp_path / "token.crt"),
        issuer="issuer",
        service="service",
        expiration_seconds=300,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["htpasswd", "token.crt", "token.key"]
