"""The ``gcs`` driver: registry paths as objects in a Google Cloud Storage bucket."""

from storage_drivers.gcs.driver import GCSDriver

__all__ = ["GCSDriver"]
