"""What a mirror's cold pull does to every byte and a direct pull does not, each alone on
one core: hash it (sha256) and write it to a new file. Both are serial stages of one
blob's stream, so no mirror that verifies and keeps each blob pulls cold faster than
either; ``python -m bench.mirror`` prints them against the direct pull's rate.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pyregistry.storage.resumable_hash import new_running_hash

MiB = 1024 * 1024
#: :func:`hash_rate` hashes one piece of this size (a mirror's pieces: fresh from the
#: socket, so in the CPU's cache) this many times a round, for this many rounds.
HASHED_PIECE = MiB
HASHED_PIECES = 256
HASH_ROUNDS = 3


def hash_rate() -> float:
    """MiB/s of sha256 on one core, as the registry's uploads hash (best of
    :data:`HASH_ROUNDS`): a mirror that verifies a blob before keeping it hashes every byte
    of a cold pull in one stream, so no such mirror's cold pull can go faster."""
    piece = os.urandom(HASHED_PIECE)
    best = 0.0
    for _ in range(HASH_ROUNDS):
        running = new_running_hash("sha256")
        started = time.perf_counter()
        for _ in range(HASHED_PIECES):
            running.update(piece)
        running.hexdigest()
        elapsed = time.perf_counter() - started
        best = max(best, HASHED_PIECES * HASHED_PIECE / MiB / elapsed)
    return best


def write_rate(directory: Path, size: int) -> float:
    """MiB/s of writing ``size`` new bytes to a new file in ``directory``, in 1 MiB
    pieces (not synced: a mirror's client has its last byte before the copy's sync), as a
    cold pull's copy is written; the file is removed."""
    piece = os.urandom(MiB)
    path = directory / "write-rate"
    started = time.perf_counter()
    with path.open("wb", buffering=0) as file:
        for _ in range(size // MiB):
            file.write(piece)
    elapsed = time.perf_counter() - started
    path.unlink()
    return size // MiB / elapsed


def print_ceilings(best: dict[str, float]) -> None:
    """This machine's sha256 and new-file write rates (``best``'s ``sha256``, ``write``)
    against the direct pull's: a cold pull through a mirror hashes and writes every byte,
    a direct pull neither."""
    direct = best.get("direct", 0.0)
    print("what a mirror's cold pull does to every byte, alone, against the direct pull")
    for key, name in (("sha256", "sha256 on one core"), ("write", "write to a new file")):
        ratio = best[key] / direct if direct else 0.0
        print(f"{name:<20} {best[key]:>7.0f} MiB/s {ratio:>6.2f}")
