"""Root test configuration: shared fixture plugins live in ``tests/support``."""

pytest_plugins: list[str] = [
    "tests.support.server",
]
