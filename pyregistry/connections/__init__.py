"""Connection hygiene under abuse: header and idle timeouts, a size limit on request
headers, a connection cap below the open-file limit, quiet accept errors, and one clear
line for non-HTTP clients.

uvicorn has a keep-alive timeout but no header timeout and no cap that keeps the process
from running out of file descriptors; :mod:`.protocols` adds both to uvicorn's own HTTP
protocols (h11 and httptools), so they work with either parser and either event loop.
"""

from pyregistry.connections.accept_log import install_accept_log_limit
from pyregistry.connections.limits import ConnectionLimits, limits_from_config
from pyregistry.connections.protocols import event_loop_factory, protocol_path

__all__ = [
    "ConnectionLimits",
    "event_loop_factory",
    "install_accept_log_limit",
    "limits_from_config",
    "protocol_path",
]
