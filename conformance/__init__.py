"""An OCI distribution-spec conformance suite, runnable against any registry URL.

Run ``python -m conformance http://HOST:PORT``; see ``python -m conformance --help``.
"""
