"""pyregistry: a pure-Python OCI distribution registry."""

__version__ = "0.1.0"

__all__ = ["__version__"]
