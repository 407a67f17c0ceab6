"""Benchmarks: pyregistry next to distribution 2.8 (``python -m bench --help``)."""
