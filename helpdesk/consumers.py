"""The base of every websocket consumer: authenticated, tenant-bound, no cross-tenant groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from helpdesk.live import tenant_group, user_group
from helpdesk.tenancy import tenant_context

# Close codes in the private range: 4401 not logged in, 4403 not a tenant user.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class TenantConsumer(AsyncJsonWebsocketConsumer):
    """Accepts only logged-in tenant users and joins their tenant's and their own group.

    The group names come from the session's user, never from the client.
    """

    tenant_id: int
    user_id: int
    groups_joined: list[str]
    joins_tenant_group = True  # False for consumers that only care about one object

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.groups_joined = []
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not getattr(user, "tenant_id", None) or user.is_bot:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.tenant_id = user.tenant_id
        self.user_id = user.pk
        if not await self.authorize():
            await self.close(code=CLOSE_FORBIDDEN)
            return
        groups = [user_group(self.user_id)]
        if self.joins_tenant_group:
            groups.insert(0, tenant_group(self.tenant_id))
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.subscribe()
        await self.accept()
        await self.on_connected()

    async def authorize(self) -> bool:
        """Hook for subclasses: may this user open this particular connection?"""
        return True

    async def subscribe(self) -> None:
        """Hook for subclasses: join whatever else this connection listens to. It runs before
        the handshake completes, so an event sent once the page sees its socket open is never
        missed (slow work belongs in ``on_connected``)."""

    async def on_connected(self) -> None:
        """Hook for subclasses: the connection is accepted and the groups are joined."""

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def session_end(self, event: dict[str, Any]) -> None:
        """The person was deactivated: this connection ends now (reconnecting is refused)."""
        await self.close(code=CLOSE_FORBIDDEN)

    async def in_tenant(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run database work in a thread, inside this connection's tenant context."""

        def run() -> Any:
            with tenant_context(self.tenant_id):
                return fn(*args, **kwargs)

        return await database_sync_to_async(run)()

    async def push(self, event: dict[str, Any]) -> None:
        """A group event: forward its rendered HTML (htmx out-of-band swaps) as it is."""
        html = event.get("html")
        if html:
            await self.send(text_data=html)
