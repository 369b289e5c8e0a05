"""Login throttling that holds under concurrency.

django-axes records failures and answers the lockout page, but it decides *before* it counts:
fifty wrong passwords sent at once all read "4 failures so far" and all get their password
checked. Here every attempt first takes a ticket from an atomic Redis counter keyed by the
normalised email and the client address; only the first ``AXES_FAILURE_LIMIT`` tickets of a
cool-off period reach the password check, whatever their spelling or timing. A successful
login returns the counter to zero (as axes resets its own).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from helpdesk.identity import normalize_email


def client_ip(request: HttpRequest | None) -> str:
    """The peer address as the ASGI server (and :mod:`helpdesk.proxy`) established it. Never a
    client-supplied header: those are only believed from trusted proxies, in the proxy layer."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR") or "")


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The username axes keys its records on: spelled exactly as login looks it up."""
    field = settings.AXES_USERNAME_FORM_FIELD
    raw = (credentials or {}).get(field)
    if raw is None and request is not None:
        raw = request.POST.get(field)
    return normalize_email(raw)


def _key(email: str, ip: str) -> str:
    return f"login:attempts:{ip}:{email}"


def _cooloff_seconds() -> int:
    return int(float(settings.AXES_COOLOFF_TIME) * 3600)


def attempt_admitted(request: HttpRequest | None, email: str) -> bool:
    """Take one attempt's ticket; False when the limit is already spent (the password must then
    not be checked at all). Redis INCR is atomic, so concurrent attempts get distinct tickets."""
    key = _key(normalize_email(email), client_ip(request))
    cache.add(key, 0, _cooloff_seconds())
    try:
        taken = int(cache.incr(key))
    except ValueError:  # expired between add and incr: this attempt opens a new period
        cache.add(key, 1, _cooloff_seconds())
        taken = 1
    return taken <= int(settings.AXES_FAILURE_LIMIT)


def attempts_reset(request: HttpRequest | None, email: str) -> None:
    cache.delete(_key(normalize_email(email), client_ip(request)))
