"""The ``filesystem`` driver: distribution's on-disk layout under a root directory.

``driver`` is the driver itself; the modules beside it are its parts: ``root`` (the only
way from a driver path to an OS path, with the containment check), ``ops`` (the blocking
calls), ``writer`` (sidecar uploads) and ``reader``.
"""

from storage_drivers.filesystem.driver import FilesystemDriver

__all__ = ["FilesystemDriver"]
