"""Prometheus counters of the pull-through cache, per upstream (its prefix, or its URL
for distribution's single ``proxy``) and per kind (``blob`` or ``manifest``).

Defined once per process, in the default registry the ``/metrics`` endpoint renders
(with several workers, ``PROMETHEUS_MULTIPROC_DIR`` aggregates them as for the API's).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HITS = Counter(
    "registry_proxy_hits_total",
    "Pulls served from the cache without fetching from the upstream",
    ["upstream", "kind"],
)
MISSES = Counter(
    "registry_proxy_misses_total",
    "Pulls that had to fetch from the upstream",
    ["upstream", "kind"],
)
UPSTREAM_BYTES = Counter(
    "registry_proxy_upstream_bytes_total",
    "Bytes of blobs and manifests read from the upstream",
    ["upstream"],
)
UPSTREAM_ERRORS = Counter(
    "registry_proxy_upstream_errors_total",
    "Upstream requests that failed (unreachable, 5xx, 429, digest mismatch)",
    ["upstream"],
)
UPSTREAM_LATENCY = Histogram(
    "registry_proxy_upstream_request_seconds",
    "Time to the upstream's answer (headers, not the whole body)",
    ["upstream", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
EXPIRED = Counter(
    "registry_proxy_expired_total",
    "Cached manifests and blobs removed because nobody pulled them within expire",
    ["kind"],
)
