"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex>``, an HMAC-SHA256 of the raw
body bytes (never re-serialized JSON) keyed with the app secret, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "HTTP_X_HUB_SIGNATURE_256"
PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value Meta sends for ``body`` (used by the simulator and the tests)."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_by(body: bytes, header: str, secret: str) -> bool:
    """Whether ``header`` is ``body``'s signature with ``secret`` (constant-time compare)."""
    if not secret or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())
