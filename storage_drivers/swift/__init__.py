"""The ``swift`` driver: OpenStack Swift with distribution's container layout.

``driver`` is the driver itself; the modules beside it are its parts: ``parameters``
(the ``storage.swift`` options), ``auth`` and ``connection`` (tokens, HTTP), ``layout``
(where things live in the container), ``objects`` (manifests and deletes) and ``writer``.
"""

from storage_drivers.swift.driver import SwiftDriver

__all__ = ["SwiftDriver"]
