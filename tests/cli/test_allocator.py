"""glibc's malloc thresholds are set for the server, unless the operator set them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pyregistry.allocator import operator_tuned, tune_allocator


def test_thresholds_are_set_on_glibc() -> None:
    # The test machines run glibc Linux; elsewhere the call reports that it did nothing.
    assert tune_allocator() is (sys.platform.startswith("linux") and not operator_tuned())


@pytest.mark.parametrize(
    ("environ", "tuned"),
    [
        ({}, False),
        ({"GLIBC_TUNABLES": "glibc.pthread.rseq=0"}, False),
        ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}, True),
        ({"MALLOC_TRIM_THRESHOLD_": "1"}, True),
    ],
)
def test_operator_settings_win(environ: dict[str, str], tuned: bool) -> None:
    assert operator_tuned(environ) is tuned


def test_an_operator_tuned_process_is_left_alone() -> None:
    code = "from pyregistry.allocator import tune_allocator; print(tune_allocator())"
    env = {"MALLOC_TRIM_THRESHOLD_": "131072", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
