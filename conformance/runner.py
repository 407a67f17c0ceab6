"""Test registration, selection and the report.

Tests register themselves with :func:`conformance_test`, naming their workflow and the optional
features they rely on, so a run can be narrowed (``--only``) or can leave out what a registry
does not claim to support (``--skip-feature``) without touching the tests.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

import httpx

from conformance.checks import CheckFailed
from conformance.client import RegistryClient

WORKFLOWS: tuple[str, ...] = ("pull", "push", "discovery", "management")

# Optional behaviour a registry may lack; each can be left out with --skip-feature.
FEATURES: dict[str, str] = {
    "catalog": "GET /v2/_catalog listing (optional in the spec)",
    "delete": "manifest and blob deletion (end-9, end-10); skipping it runs the 'deletion "
    "disabled' checks instead",
    "tag-delete": "DELETE /v2/<name>/manifests/<tag> removes only the tag",
    "referrers": "the referrers API (end-12a)",
    "referrers-filter": "artifactType filtering of referrers with OCI-Filters-Applied (end-12b)",
    "oci-subject": "OCI-Subject header when a manifest with a subject is pushed",
    "sha512": "sha512 digests for blobs and manifests",
    "multi-tag": "PUT manifest by digest with ?tag=... and OCI-Tag response headers",
    "single-post": "single-request monolithic blob upload (end-4b); a 202 fallback passes too",
    "digest-algorithm": "POST ?digest-algorithm= declaring the upload's algorithm (end-4c)",
    "mount-without-from": "POST ?mount=<digest> without from= mounting the blob",
    "range": "ranged blob GET answered 206 with Content-Range",
    "range-416": "416 for an unsatisfiable blob Range",
    "upload-416": "416 for a PATCH chunk that does not continue the upload (a MUST since 1.0)",
    "manifest-size-limit": "manifests over 4 MiB rejected with 413",
    "manifest-blob-check": "manifests referencing unknown blobs or manifests rejected",
    "tags-pagination": "tags/list honouring n and last",
    "empty-tag-list": "tags/list of a repository without tags answers 200 with an empty list",
    "upload-uuid": "Docker-Upload-UUID header on upload responses",
}


@dataclass
class Context:
    """What one test gets: a client and repository names of its own."""

    client: RegistryClient
    namespace: str
    crossmount_namespace: str

    def repo(self, label: str) -> str:
        """A fresh repository below the namespace, so tests never share state."""
        return f"{self.namespace}/{label}-{secrets.token_hex(3)}"


TestFunc = Callable[[Context], None]


@dataclass(frozen=True)
class TestCase:
    """One registered conformance check."""

    workflow: str
    name: str
    func: TestFunc
    features: frozenset[str] = field(default_factory=frozenset)
    unless: frozenset[str] = field(default_factory=frozenset)

    @property
    def test_id(self) -> str:
        return f"{self.workflow}/{self.name}"

    def selected(self, skipped: frozenset[str]) -> bool:
        """Runs when none of its features is skipped and every ``unless`` feature is."""
        return not (self.features & skipped) and self.unless <= skipped


REGISTRY: list[TestCase] = []


def conformance_test(
    workflow: str, name: str, *, features: Iterable[str] = (), unless: Iterable[str] = ()
) -> Callable[[TestFunc], TestFunc]:
    """Register a test under ``workflow/name``.

    ``features`` name optional behaviour the test needs; ``unless`` names features whose
    absence the test checks (it runs only when they are skipped).
    """
    feats = frozenset(features)
    unl = frozenset(unless)
    if workflow not in WORKFLOWS:
        raise ValueError(f"unknown workflow {workflow!r}")
    unknown = (feats | unl) - FEATURES.keys()
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)} on {workflow}/{name}")

    def register(func: TestFunc) -> TestFunc:
        case = TestCase(workflow, name, func, feats, unl)
        if any(t.test_id == case.test_id for t in REGISTRY):
            raise ValueError(f"duplicate test {case.test_id}")
        REGISTRY.append(case)
        return func

    return register


def select(only: Iterable[str], skipped: frozenset[str]) -> list[TestCase]:
    """Tests to run: ``only`` holds workflows or full test ids (empty means all)."""
    wanted = {o for o in only if o}
    chosen = []
    for case in sorted(REGISTRY, key=lambda c: (WORKFLOWS.index(c.workflow), c.name)):
        if wanted and case.workflow not in wanted and case.test_id not in wanted:
            continue
        if case.selected(skipped):
            chosen.append(case)
    return chosen


@dataclass
class Report:
    """Counts of one run; printed as the last line."""

    passed: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


def run_one(case: TestCase, ctx: Context) -> str | None:
    """Run a test; None when it passed, else the reason it failed."""
    try:
        case.func(ctx)
    except CheckFailed as exc:
        return str(exc) or "check failed"
    except httpx.HTTPError as exc:
        return f"HTTP error: {type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a crash in a test is a failure to report, not to propagate
        return f"error: {type(exc).__name__}: {exc}"
    return None


def run(
    cases: list[TestCase], ctx: Context, out: TextIO = sys.stdout, log: TextIO | None = None
) -> Report:
    """Run ``cases`` in order, print one line each and the summary line last.

    ``log`` (stderr under -v) gets a marker before each test so request logs can be told apart.
    """
    report = Report()
    for case in cases:
        if log is not None:
            print(f"RUN {case.test_id}", file=log, flush=True)
        reason = run_one(case, ctx)
        if reason is None:
            report.passed += 1
            print(f"PASS {case.test_id}", file=out, flush=True)
        else:
            report.failed += 1
            report.failures.append(case.test_id)
            one_line = " ".join(reason.split())
            print(f"FAIL {case.test_id}: {one_line}", file=out, flush=True)
    print(report.summary, file=out, flush=True)
    return report
