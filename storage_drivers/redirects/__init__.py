"""distribution's storage middleware (``middleware.storage``): what the URL a blob's
``GET`` is redirected to becomes, entry after entry (each sees what the entries before it,
and the driver, made of it):

* ``redirect`` (``baseurl``): the driver path below a base URL, such as a web server or a
  CDN serving the storage's files;
* ``rewrite`` (``scheme``, ``host``, ``trimpathprefix``): the URL so far with its scheme or
  host replaced, or a path prefix cut;
* ``cloudfront`` (``baseurl``, ``privatekey``, ``keypairid``, ``duration``): a signed
  CloudFront URL of the object's key, for the S3 driver.

Nothing here knows of manifests: a middleware gets a driver path and a URL.
"""

from storage_drivers.redirects.chain import (
    MIDDLEWARE,
    MiddlewareError,
    RedirectMiddleware,
    build_redirects,
)

__all__ = ["MIDDLEWARE", "MiddlewareError", "RedirectMiddleware", "build_redirects"]
