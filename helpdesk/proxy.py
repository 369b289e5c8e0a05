"""Who the client is, behind a reverse proxy: believed only from the proxies we trust.

daphne's ``--proxy-headers`` believes ``X-Forwarded-For`` from anyone, so a client talking to
the app port directly could pick its own address (and escape every per-address limit) or claim
HTTPS. This ASGI middleware replaces it: when the peer is one of ``TRUSTED_PROXIES`` (addresses
or networks, empty by default), the client address is the right-most ``X-Forwarded-For`` entry
that is not itself a trusted proxy, and the scheme comes from ``X-Forwarded-Proto``; from any
other peer those headers are dropped before Django or a consumer can read them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

FORWARDING_HEADERS = {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"}


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def _header_values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[str]:
    values: list[str] = []
    for key, value in headers:
        if key.lower() == name:
            values += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
    return values


def forwarded_client(
    peer: str, headers: list[tuple[bytes, bytes]], networks: tuple[Network, ...]
) -> tuple[str, str | None]:
    """(client address, forwarded scheme or None) for a request from ``peer``."""
    if not networks or not _trusted(peer, networks):
        return peer, None
    client = peer
    for hop in reversed(_header_values(headers, b"x-forwarded-for")):
        client = hop
        if not _trusted(hop, networks):
            break
    protos = _header_values(headers, b"x-forwarded-proto")
    proto = protos[-1].lower() if protos else None
    return client, proto if proto in {"http", "https"} else None


def _scheme(scope_type: str, proto: str) -> str:
    secure = proto == "https"
    if scope_type == "websocket":
        return "wss" if secure else "ws"
    return "https" if secure else "http"


class TrustedProxyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") in {"http", "websocket"}:
            scope = self.rewrite(scope)
        await self.app(scope, receive, send)

    @staticmethod
    def rewrite(scope: dict[str, Any]) -> dict[str, Any]:
        headers = list(scope.get("headers") or [])
        peer, port = (scope.get("client") or ("", 0))[:2]
        client, proto = forwarded_client(peer, headers, trusted_networks())
        scope = dict(scope)
        scope["headers"] = [(k, v) for k, v in headers if k.lower() not in FORWARDING_HEADERS]
        if client != peer:
            scope["client"] = (client, 0)
        elif scope.get("client"):
            scope["client"] = (peer, port)
        if proto:
            scope["scheme"] = _scheme(scope["type"], proto)
        return scope
