"""Processes writing to one pipe take one lock for each batch of access-log lines
(``pyregistry/shared_pipe.py``); a file needs none."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyregistry.shared_pipe import NO_LOCK, _lock_path, lock_for, remove_lock_file
from tests.support.registry_process import REPO_ROOT

HOLDER = """
import sys, time
from pyregistry.shared_pipe import lock_for
lock = lock_for(sys.stdout)
with lock:
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_process_on_the_same_pipe_waits_for_the_lock() -> None:
    read, write = os.pipe()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=write, env=env)
    os.close(write)
    try:
        with os.fdopen(read, "rb") as pipe:
            assert pipe.readline() == b"held\n"
            with os.fdopen(os.dup(pipe.fileno()), "rb") as same:
                lock = lock_for(same)  # the read end: the same pipe, so the same lock file
                assert lock is not NO_LOCK and lock._fd is not None
                with pytest.raises(BlockingIOError):
                    fcntl.flock(lock._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                holder.kill()
                holder.wait(10)
                fcntl.flock(lock._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once it is gone
                fcntl.flock(lock._fd, fcntl.LOCK_UN)
                status = os.fstat(same.fileno())
                path = Path(_lock_path((status.st_dev, status.st_ino)))
                assert path.exists()
                remove_lock_file(same)  # what the supervisor does as it stops
                assert not path.exists()
    finally:
        holder.kill()
        holder.wait(10)


def test_files_and_closed_streams_need_no_lock(tmp_path: Path) -> None:
    with (tmp_path / "access.log").open("w") as file:
        assert lock_for(file) is NO_LOCK
    assert lock_for(file) is NO_LOCK  # closed: fileno() raises
    assert lock_for(object()) is NO_LOCK
    remove_lock_file(object())  # nothing to remove, nothing raised
