"""Who a web chat visitor is: a random id in a signed cookie, one per account."""

from __future__ import annotations

import secrets

from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE_MAX_AGE = 365 * 24 * 3600
SALT = "helpdesk.webchat.visitor"


def cookie_name(account_uuid: str) -> str:
    return f"hdchat_{str(account_uuid).replace('-', '')[:12]}"


def read_visitor(cookies: dict[str, str], account_uuid: str) -> str | None:
    """The visitor id from the signed cookie, or None when absent or tampered with."""
    raw = cookies.get(cookie_name(account_uuid))
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=SALT, max_age=COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    return str(value) if isinstance(value, str) and value.startswith("v-") else None


def new_visitor() -> str:
    return "v-" + secrets.token_hex(12)


def remember(response: HttpResponse, request: HttpRequest, account_uuid: str, visitor: str) -> None:
    # SameSite=None so the widget's iframe on the tenant's site keeps the cookie (HTTPS only
    # outside development).
    secure = request.is_secure()
    response.set_cookie(
        cookie_name(account_uuid),
        signing.dumps(visitor, salt=SALT),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
    )


def visitor_group(account_id: int, visitor: str) -> str:
    return f"chat-{account_id}-{visitor}"
