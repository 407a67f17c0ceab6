"""Command line: ``python -m conformance URL [options]``; exit 0 iff no test failed."""

from __future__ import annotations

import argparse
import secrets
import sys

from conformance import suite
from conformance.client import RegistryClient
from conformance.runner import FEATURES, WORKFLOWS, Context, run, select


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    features = "\n".join(f"  {name}: {text}" for name, text in FEATURES.items())
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="OCI distribution-spec conformance suite.",
        epilog=f"features (for --skip-feature):\n{features}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", help="registry base URL, e.g. http://127.0.0.1:5000")
    token = secrets.token_hex(4)
    parser.add_argument(
        "--namespace",
        default=f"conformance/{token}",
        help="repository namespace to push into (default: conformance/<random>)",
    )
    parser.add_argument(
        "--crossmount-namespace",
        default=None,
        help="namespace blobs are mounted from (default: <namespace>-crossmount)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help=f"comma-separated workflows ({', '.join(WORKFLOWS)}) or workflow/test ids",
    )
    parser.add_argument(
        "--skip-feature",
        action="append",
        default=[],
        help="comma-separated optional features the registry lacks (listed below)",
    )
    parser.add_argument("--user", help="user for HTTP Basic authentication")
    parser.add_argument("--password", help="password for HTTP Basic authentication")
    parser.add_argument("--token", help="bearer token sent on every request")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (s)")
    parser.add_argument("--list", action="store_true", help="list the selected tests and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    skipped = frozenset(_split(args.skip_feature))
    unknown = skipped - FEATURES.keys()
    if unknown:
        print(f"unknown features: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    only = _split(args.only)
    known_ids = {case.test_id for case in suite.REGISTRY}
    bad = [o for o in only if o not in WORKFLOWS and o not in known_ids]
    if bad:
        print(f"unknown workflows or tests: {', '.join(bad)}", file=sys.stderr)
        return 2
    cases = select(only, skipped)
    if args.list:
        for case in cases:
            print(case.test_id)
        return 0
    client = RegistryClient(
        args.url,
        user=args.user,
        password=args.password,
        token=args.token,
        verbose=args.verbose,
        timeout=args.timeout,
    )
    namespace = args.namespace.strip("/")
    ctx = Context(
        client=client,
        namespace=namespace,
        crossmount_namespace=(args.crossmount_namespace or f"{namespace}-crossmount").strip("/"),
    )
    try:
        report = run(cases, ctx, log=sys.stderr if args.verbose else None)
    finally:
        client.close()
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
