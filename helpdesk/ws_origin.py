"""Websocket handshakes only from our own pages: the Origin must be this site's origin.

Channels' ``AllowedHostsOriginValidator`` compares the Origin's host name with
``ALLOWED_HOSTS`` and ignores scheme and port, so a page on ``http://127.0.0.1:9999`` (another
program on the same machine) or ``https://localhost`` could open a socket with the agent's
cookie. Here the Origin must equal the origin the request was made to (scheme from ws/wss,
host and port from the validated Host header), or be one of ``CSRF_TRUSTED_ORIGINS`` (behind a
proxy that changes them) — the same rule Django's CSRF check applies to forms.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from helpdesk.proxy import ASGIApp

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def site_origin(scope: dict[str, Any]) -> tuple[str, str, int] | None:
    """The origin this handshake was sent to, when its Host is one of ours."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return _origin_tuple(f"{scheme}://{host}")


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    theirs = _origin_tuple(origin) if origin else None
    if theirs is None:
        return False
    if theirs == site_origin(scope):
        return True
    trusted = {_origin_tuple(o) for o in settings.CSRF_TRUSTED_ORIGINS if "*" not in o}
    return theirs in trusted


class SameOriginValidator:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "websocket" and not origin_allowed(scope):
            await WebsocketDenier()(scope, receive, send)
            return
        await self.app(scope, receive, send)
