"""Certificates from an ACME CA (Let's Encrypt) for the hosts of ``http.tls.letsencrypt``,
as distribution obtains them: the TLS-ALPN-01 challenge answered on the registry's own
HTTPS port, certificates kept in the ``cachefile`` directory in the layout of Go's
``autocert.DirCache`` (so a directory distribution filled is used as it is), renewed 30
days before they expire.

:mod:`~pyregistry.letsencrypt.renewal` obtains and renews (one thread in the serving
process, imported only then: the ``acme`` library is optional);
:mod:`~pyregistry.letsencrypt.contexts` picks the certificate for each TLS
handshake from the directory, in every worker process.
"""

from __future__ import annotations

from pyregistry.letsencrypt.contexts import CertificateSelector, server_context
from pyregistry.letsencrypt.settings import LetsEncryptSettings
from pyregistry.letsencrypt.startup import configured, start_renewal

__all__ = [
    "CertificateSelector",
    "LetsEncryptSettings",
    "configured",
    "server_context",
    "start_renewal",
]
