"""The one guard for every outbound connection a tenant's settings can aim.

A tenant admin chooses mail servers (and, later, webhook URLs). Without a guard they could make
our servers connect to loopback services, the cloud's link-local metadata address or the
private network, and read open/closed from the answer. :func:`create_connection` resolves the
name itself, refuses any address that is not public (loopback, link-local, private, shared,
reserved, multicast, unspecified; IPv4 and IPv6, IPv4-mapped included) and connects to the
very address it checked, so a name that resolves differently a moment later (DNS rebinding)
cannot slip through. Every connect goes through it: the IMAP and SMTP clients of
``channels_conn.email.guarded`` and the ``requests`` session of :func:`session`.

The platform operator allows private addresses with ``OUTBOUND_ALLOW_PRIVATE=1`` (on by default
with DEBUG, so a local Dovecot works in development).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(OSError):
    """The destination resolves to an address tenants may not reach."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to the non-public address {address}")
        self.host = host
        self.address = address


def private_allowed() -> bool:
    return bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE", False))


# Not global, whatever this Python's tables say (they changed between patch releases).
NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "64:ff9b:1::/48")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: str) -> bool:
    """True only for a globally routable unicast address (an IPv6 address that carries an IPv4
    one — mapped, 6to4, Teredo, NAT64 — is judged by the IPv4 address inside)."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo and ip.teredo[1])
        if inner is None and ip in NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return is_public(str(inner))
    if any(ip in net for net in NOT_PUBLIC if net.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    """getaddrinfo answers for (host, port) that may be connected to; OutboundRefused when a
    non-public address is among them (a name mixing public and private answers is refused as a
    whole: it is how rebinding attacks look)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not private_allowed():
        for *_rest, sockaddr in infos:
            if not is_public(str(sockaddr[0])):
                raise OutboundRefused(host, str(sockaddr[0]))
    return infos


def create_connection(
    host: str, port: int, timeout: float | None = None, source_address: Any = None
) -> socket.socket:
    """``socket.create_connection`` that connects only to the addresses it has checked."""
    error: OSError | None = None
    for family, socktype, proto, _name, sockaddr in resolve(host, port):
        sock = socket.socket(family, socktype, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"getaddrinfo returned nothing for {host}")


# --- requests ----------------------------------------------------------------------------------


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return create_connection(self._dns_host, self.port, self.timeout, self.source_address)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return create_connection(self._dns_host, self.port, self.timeout, self.source_address)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """Every connection (redirects included) goes through :func:`create_connection`; TLS still
    verifies the certificate against the host name."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def session() -> requests.Session:
    """A ``requests`` session for tenant-aimed URLs (webhooks, provider calls)."""
    s = requests.Session()
    s.trust_env = False  # an environment proxy would connect on our behalf, unchecked
    adapter = GuardedAdapter()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s
