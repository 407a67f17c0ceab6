"""The conformance suite checked against the reference (distribution 2.8) and run on pyregistry.

Against distribution the suite proves its own expectations: with the optional features
distribution lacks skipped, everything passes except a recorded set of spec violations
(each explained below); any change to the suite that moves that set is noticed here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyregistry.config.model import Config, typed_section
from tests.support.command import free_port
from tests.support.distribution import run_distribution
from tests.support.server import inmemory_config

REPO_ROOT = Path(__file__).resolve().parent.parent

# Optional features distribution 2.8 does not have, each a spec MAY/SHOULD or a 1.1+ addition.
DISTRIBUTION_LACKS = (
    "referrers",  # end-12a/12b arrived in spec 1.1; 2.8 routes /referrers/ to a 404 page
    "referrers-filter",
    "oci-subject",  # no OCI-Subject header on manifest PUT (spec 1.1)
    "multi-tag",  # ?tag= on manifest PUT is ignored, no OCI-Tag header
    "sha512",  # sha512 blobs work, but a manifest PUT by sha512 digest is DIGEST_INVALID
    "mount-without-from",  # answers 202 (an upload) instead of mounting
    "tag-delete",  # DELETE by tag is 400 DIGEST_INVALID: "disabled", allowed by the spec
    "tags-pagination",  # n and last are ignored on tags/list
    "empty-tag-list",  # a repository with only untagged manifests is 404 NAME_UNKNOWN
    "range-416",  # the 416 carries the blob's Content-Length with a 33-byte body
    "upload-416",  # Content-Range on PATCH is not checked: an out-of-order chunk is 202
    "manifest-size-limit",  # over 4 MiB is 400 MANIFEST_INVALID, not 413
    "digest-algorithm",  # ?digest-algorithm= (end-4c, spec 1.1+) is ignored: any value is 202
)

# What distribution 2.8 still fails with those features skipped:
#  - tags-list-order: "the tags MUST be in lexical order" (Content Discovery, end-8a); 2.8
#    lists tags in directory order of its storage (sorting came with distribution 3).
#  - manifest-malformed-digest: a manifest reference like "sha256:not-hex" is answered
#    500 UNKNOWN (2.8 looks it up as a tag path and its driver refuses the path): a client
#    error answered as a server error.
DISTRIBUTION_REMAINING_FAILURES = {"discovery/tags-list-order", "pull/manifest-malformed-digest"}

# Everything distribution 2.8 fails when no feature is skipped.
DISTRIBUTION_ALL_FAILURES = DISTRIBUTION_REMAINING_FAILURES | {
    "pull/blob-range-unsatisfiable",
    "push/manifest-oci-subject-header",
    "push/manifest-put-multiple-tags",
    "push/manifest-sha512",
    "push/manifest-too-large",
    "push/mount-without-from",
    "push/upload-chunk-out-of-order",
    "push/upload-digest-algorithm",
    "discovery/referrers-after-delete",
    "discovery/referrers-empty",
    "discovery/referrers-filter",
    "discovery/referrers-invalid-digest",
    "discovery/referrers-list",
    "discovery/referrers-subject-pushed-later",
    "discovery/referrers-unknown-subject",
    "discovery/tags-list-empty",
    "discovery/tags-list-last",
    "discovery/tags-list-n",
    "discovery/tags-list-n-zero",
    "discovery/tags-list-pagination-link",
    "management/tag-delete",
}

# pyregistry aims at the whole suite; list here any feature it deliberately leaves out.
PYREGISTRY_SKIPPED_FEATURES: tuple[str, ...] = ()
PYREGISTRY_MIN_PASSED = 76
SPARSE_TESTS = {
    "push/sparse-image-manifest",
    "push/sparse-image-manifest-no-blobs",
    "push/sparse-index",
}


@dataclass
class SuiteRun:
    """The outcome of one ``python -m conformance`` subprocess."""

    returncode: int
    lines: list[str]
    stderr: str

    @property
    def failed(self) -> set[str]:
        return {line[5:].split(":", 1)[0] for line in self.lines if line.startswith("FAIL ")}

    @property
    def passed(self) -> set[str]:
        return {line[5:] for line in self.lines if line.startswith("PASS ")}

    def explain(self) -> str:
        return "\n".join(self.lines[-80:]) + "\n" + self.stderr[-2000:]


def run_suite(url: str, *args: str) -> SuiteRun:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", url, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return SuiteRun(proc.returncode, proc.stdout.splitlines(), proc.stderr)


def assert_well_formed(run: SuiteRun) -> None:
    """One PASS/FAIL line per test and the exact summary line last."""
    assert run.lines, f"no output: {run.stderr}"
    body, last = run.lines[:-1], run.lines[-1]
    assert all(line.startswith(("PASS ", "FAIL ")) for line in body), run.explain()
    assert last == f"{len(run.passed)} passed, {len(run.failed)} failed", run.explain()
    assert run.returncode == (0 if not run.failed else 1), run.explain()


@pytest.fixture(scope="module")
def distribution() -> Iterator[str]:
    """Distribution 2.8 on loopback with deletion enabled."""
    with run_distribution() as registry:
        yield registry.url


@pytest.fixture(scope="module")
def distribution_no_delete() -> Iterator[str]:
    """Distribution 2.8 with deletion disabled (its default configuration)."""
    with run_distribution(options={"storage": {"delete": {"enabled": False}}}) as registry:
        yield registry.url


def test_distribution_passes_with_unsupported_features_skipped(distribution: str) -> None:
    run = run_suite(distribution, "--skip-feature", ",".join(DISTRIBUTION_LACKS))
    assert_well_formed(run)
    assert run.failed == DISTRIBUTION_REMAINING_FAILURES, run.explain()
    assert len(run.passed) >= 45, run.explain()
    # Core flows every client needs are among the passes.
    for core in (
        "pull/manifest-get-by-tag",
        "push/upload-chunked",
        "push/upload-streamed",
        "push/mount-cross-repository",
        "discovery/tags-list",
        "management/manifest-delete",
        "management/tag-delete-disabled",
    ):
        assert core in run.passed, run.explain()


def test_distribution_full_run_fails_exactly_the_known_set(distribution: str) -> None:
    run = run_suite(distribution)
    assert_well_formed(run)
    assert run.failed == DISTRIBUTION_ALL_FAILURES, run.explain()


def test_distribution_with_deletion_disabled(distribution_no_delete: str) -> None:
    """With --skip-feature delete the suite checks the 'deletion disabled' answers instead."""
    run = run_suite(
        distribution_no_delete, "--only", "management", "--skip-feature", "delete,tag-delete"
    )
    assert_well_formed(run)
    assert run.passed == {"management/delete-disabled", "management/tag-delete-disabled"}
    assert not run.failed, run.explain()


def test_rerun_against_same_registry_does_not_collide(distribution: str) -> None:
    """Content is random per run, so a second run in the same namespace behaves the same."""
    args = ("--namespace", "conformance/rerun", "--only", "push,pull")
    first, second = run_suite(distribution, *args), run_suite(distribution, *args)
    assert_well_formed(second)
    assert first.failed == second.failed, second.explain()
    assert first.passed == second.passed, second.explain()


def test_cli_selection_and_errors() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "conformance", "http://127.0.0.1:9", "--list", "--only", "pull"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed and all(t.startswith("pull/") for t in listed)
    assert "pull/blob-range-unsatisfiable" in listed
    bad = run_suite("http://127.0.0.1:9", "--skip-feature", "no-such-feature")
    assert bad.returncode == 2 and "no-such-feature" in bad.stderr


def test_unreachable_registry_fails_every_test_cleanly() -> None:
    """Connection errors become FAIL lines, never a traceback."""
    run = run_suite(f"http://127.0.0.1:{free_port()}", "--only", "pull", "--timeout", "2")
    assert_well_formed(run)
    assert run.failed and not run.passed, run.explain()
    assert "Traceback" not in run.stderr


def test_pyregistry_passes_the_whole_suite(registry_server: str) -> None:
    """pyregistry's HTTP API (tests/support/server.py: registry_server) passes everything."""
    args = ["--skip-feature", ",".join(PYREGISTRY_SKIPPED_FEATURES)]
    run = run_suite(registry_server, *(args if PYREGISTRY_SKIPPED_FEATURES else []))
    assert_well_formed(run)
    assert run.returncode == 0, run.explain()
    assert run.lines[-1] == f"{len(run.passed)} passed, 0 failed", run.explain()
    assert len(run.passed) >= PYREGISTRY_MIN_PASSED, run.explain()


def test_pyregistry_with_deletion_disabled(registry_server_factory: Callable[..., str]) -> None:
    """storage.delete.enabled false: every DELETE is refused and nothing disappears."""
    url = registry_server_factory(inmemory_config(delete_enabled=False))
    run = run_suite(url, "--only", "management", "--skip-feature", "delete,tag-delete")
    assert_well_formed(run)
    assert run.passed == {"management/delete-disabled", "management/tag-delete-disabled"}


def test_pyregistry_sparse_workflow(registry_server_factory: Callable[..., str]) -> None:
    """validation.manifests.sparse: the whole suite passes with the reference checks
    replaced by the sparse workflow."""
    config = inmemory_config()
    sparse = Config(
        storage=config.storage,
        validation=typed_section("validation", {"manifests": {"sparse": True}}),
    )
    run = run_suite(registry_server_factory(sparse), "--skip-feature", "manifest-blob-check")
    assert_well_formed(run)
    assert run.returncode == 0, run.explain()
    assert run.passed >= SPARSE_TESTS, run.explain()


def test_sparse_workflow_fails_on_a_strict_registry(registry_server: str) -> None:
    """The default registry refuses sparse manifests, so the sparse workflow must fail."""
    run = run_suite(
        registry_server,
        "--only",
        ",".join(sorted(SPARSE_TESTS)),
        "--skip-feature",
        "manifest-blob-check",
    )
    assert_well_formed(run)
    assert run.failed == SPARSE_TESTS, run.explain()
