"""Whether anyone of a tenant's team is connected right now (the chat says so when not).

A counter per tenant of open inbox/shell sockets. A worker that dies without closing its
sockets leaves the count high until it expires (a day), which errs on "someone is here"."""

from __future__ import annotations

from django.core.cache import cache

TTL = 24 * 3600


def _key(tenant_id: int) -> str:
    return f"presence:tenant:{tenant_id}"


def agent_connected(tenant_id: int) -> None:
    cache.add(_key(tenant_id), 0, TTL)
    cache.incr(_key(tenant_id))


def agent_disconnected(tenant_id: int) -> None:
    try:
        if cache.decr(_key(tenant_id)) < 0:
            cache.set(_key(tenant_id), 0, TTL)
    except ValueError:
        pass  # expired meanwhile


def anyone_available(tenant_id: int) -> bool:
    return int(cache.get(_key(tenant_id)) or 0) > 0
