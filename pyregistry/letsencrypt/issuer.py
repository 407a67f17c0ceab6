"""One certificate ordered from the ACME CA (``directoryurl``) with the ``acme`` library:
the account (made, or found again, from the directory's key), the order, the TLS-ALPN-01
challenge of each authorization answered through the store (every worker serves it), the
finalization with a new P-256 key, the certificate saved. Blocking: run in a thread."""

from __future__ import annotations

import datetime
import logging
import os

from acme import client, crypto_util, errors, messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from josepy.jwa import ES256
from josepy.jwk import JWKEC

from pyregistry.letsencrypt.settings import LetsEncryptSettings
from pyregistry.letsencrypt.store import CertificateStore
from pyregistry.letsencrypt.tls_alpn import challenge_certificate, is_tls_alpn

log = logging.getLogger("pyregistry.letsencrypt")

#: How long an order may take, validation included.
ORDER_SECONDS = 120.0
USER_AGENT = "pyregistry"


class IssueError(Exception):
    """The CA did not issue (no TLS-ALPN-01 challenge offered, validation failed...)."""


def _client(settings: LetsEncryptSettings, key: ec.EllipticCurvePrivateKey) -> client.ClientV2:
    """A client of the directory, logged in to the account of ``key`` (registered with
    the terms accepted, as distribution's autocert does, or found again)."""
    account_key = JWKEC(key=key)
    # The CA is trusted as Go trusts it: the system's roots, or the file SSL_CERT_FILE names.
    verify: bool | str = os.environ.get("SSL_CERT_FILE") or True
    network = client.ClientNetwork(
        account_key,
        alg=ES256,
        user_agent=USER_AGENT,
        verify_ssl=verify,  # type: ignore[arg-type]  # requests takes a CA file too
    )
    directory = client.ClientV2.get_directory(settings.directory_url, network)
    acme = client.ClientV2(directory, network)
    contact = (f"mailto:{settings.email}",) if settings.email else ()
    registration = messages.NewRegistration(contact=contact, terms_of_service_agreed=True)
    try:
        network.account = acme.new_account(registration)
    except errors.ConflictError as exc:  # the key's account exists: use it
        found = messages.RegistrationResource(uri=exc.location, body=messages.Registration())
        network.account = acme.query_registration(found)
    return acme


def issue(settings: LetsEncryptSettings, store: CertificateStore, host: str) -> None:
    """Order a certificate for ``host`` and save it in ``store``; :class:`IssueError`
    (or the ``acme`` library's errors) when the CA does not issue."""
    acme = _client(settings, store.account_key())
    account_key = acme.net.key
    certificate_key = ec.generate_private_key(ec.SECP256R1())
    key_pem = certificate_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    order = acme.new_order(crypto_util.make_csr(key_pem, [host]))
    try:
        for authorization in order.authorizations:
            if authorization.body.status == messages.STATUS_VALID:
                continue
            offered = [c for c in authorization.body.challenges if is_tls_alpn(c.chall)]
            if not offered:
                raise IssueError(f"the CA offers no tls-alpn-01 challenge for {host}")
            challenge = offered[0]
            key_authorization = challenge.chall.key_authorization(account_key)
            challenge_key = ec.generate_private_key(ec.SECP256R1())
            store.save_challenge(
                host, challenge_key, challenge_certificate(host, key_authorization, challenge_key)
            )
            acme.answer_challenge(challenge, challenge.chall.response(account_key))
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_SECONDS)
        try:
            order = acme.poll_and_finalize(order, deadline)
        except errors.ValidationError as exc:
            problems = [
                str(c.error) for a in exc.failed_authzrs for c in a.body.challenges if c.error
            ]
            raise IssueError(f"validation of {host} failed: {'; '.join(problems)}") from None
    finally:
        store.drop_challenge(host)
    store.save_certificate(host, certificate_key, order.fullchain_pem.encode())
    log.info("certificate for %s obtained from %s", host, settings.directory_url)
