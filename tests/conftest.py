"""Root test configuration: shared fixture plugins live in ``tests/support``."""

pytest_plugins: list[str] = [
    "tests.support.server",
    "tests.support.distribution",
    "tests.support.skopeo",
    "tests.support.podman",
    "tests.support.buildah",
    "tests.support.docker",
    "tests.support.targets",
    "tests.support.redis",
    "tests.support.redis_sentinel",
    "tests.support.redis_cluster",
    "tests.support.swift",
    "tests.support.s3",
    "tests.support.gcs",
    "tests.support.azure",
]
