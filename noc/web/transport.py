"""Transport: HTTPS from ``server.tls`` (or ``noc run --tls-cert/--tls-key``) and the security
headers every response carries (GB/T 22239 8.1.4.8 confidentiality in transit; the browser side
of access control).

The headers are added on ``on_response_prepare``, so error pages, redirects and static files
get them too: a Content-Security-Policy without inline script (the console ships its scripts as
files), no framing (clickjacking), no MIME sniffing, no referrer leaving the site; under TLS
also HSTS. TLS is 1.2 or newer with the ssl module's default ciphers.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

from aiohttp import web

from noc.core.errors import InputError

CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(security_headers)


class TlsError(InputError):
    """The certificate or key cannot be loaded (missing file, wrong format, key not matching)."""


def server_context(cert: str, key: str) -> ssl.SSLContext:
    """A server-side TLS context from PEM files; a TlsError (exit 2) says what is wrong."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise TlsError(f"TLS: cannot read {exc.filename}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise TlsError(f"TLS: cannot load certificate {cert} with key {key}: {exc}") from None
    return context
