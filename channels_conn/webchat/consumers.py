"""The visitor's live connection: agent replies and "typing…" arrive here; the visitor's own
typing goes to the pages showing their ticket.

The socket is public (anyone with a visitor cookie opens one), so its hot path does no database
work: what it needs (the open ticket, the visitor's name) is read once on connect and then
kept current by ``chat.ticket`` events the chat view sends when a message opens a ticket.
Typing is forwarded at most once per :data:`TYPING_INTERVAL` and never stored."""

from __future__ import annotations

import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string
from django.utils.translation import gettext

from channels_conn.webchat.visitors import read_visitor, visitor_group
from helpdesk.consumers import CLOSE_FORBIDDEN
from helpdesk.tenancy import bypass_context, tenant_context

TYPING_INTERVAL = 1.0  # seconds between two typing events forwarded from one socket
MAX_FRAME = 4096  # a typing frame is a few bytes; anything larger is not ours


def _cookies(scope: dict[str, Any]) -> dict[str, str]:
    from http.cookies import SimpleCookie

    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            return {k: m.value for k, m in jar.items()}
    return {}


def _open_ticket(account_uuid: str, visitor: str) -> tuple[int, int, int | None, str] | None:
    """(account id, tenant id, open ticket id or None, customer name) for this visitor of an
    active (connected) web chat account; None for a disconnected or unknown account."""
    from deskconfig.accounts import ChannelAccount
    from tickets.models import CustomerIdentity, Ticket

    with bypass_context():
        account = ChannelAccount.all_tenants.filter(
            uuid=account_uuid, kind="webchat", active=True
        ).first()
    if account is None:
        return None
    with tenant_context(account.tenant_id):
        identity = (
            CustomerIdentity.objects.select_related("customer")
            .filter(kind="webchat", value=visitor)
            .first()
        )
        ticket_id = (
            Ticket.objects.filter(customer=identity.customer, account=account, status="open")
            .values_list("pk", flat=True)
            .first()
            if identity
            else None
        )
        name = identity.customer.name if identity else ""
    return account.pk, account.tenant_id, ticket_id, name


class ChatConsumer(AsyncWebsocketConsumer):
    group: str = ""
    ticket_id: int | None = None
    name: str = ""
    last_typing: float = 0.0

    async def connect(self) -> None:
        account_uuid = str(self.scope["url_route"]["kwargs"]["account_uuid"])
        visitor = read_visitor(_cookies(self.scope), account_uuid)
        found = (
            await database_sync_to_async(_open_ticket)(account_uuid, visitor) if visitor else None
        )
        if not visitor or found is None:
            await self.close(code=CLOSE_FORBIDDEN)  # no chat yet: the page works without it
            return
        account_id, _tenant, self.ticket_id, self.name = found
        self.group = visitor_group(account_id, visitor)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not text_data or len(text_data) > MAX_FRAME or self.ticket_id is None:
            return
        now = time.monotonic()
        if now - self.last_typing < TYPING_INTERVAL:
            return  # throttled before parsing: a flood costs nothing but this comparison
        try:
            typing = json.loads(text_data).get("typing")
        except (ValueError, AttributeError):
            return
        if not typing:
            return
        self.last_typing = now
        from tickets.live import ticket_group

        await self.channel_layer.group_send(
            ticket_group(self.ticket_id),
            {
                "type": "typing",
                "channel": self.channel_name,
                "user_id": 0,
                "name": self.name or gettext("Cliente"),
            },
        )

    async def chat_ticket(self, event: dict[str, Any]) -> None:
        """The visitor's message opened (or continued) a ticket: typing goes there now."""
        self.ticket_id = int(event["ticket"])
        self.name = str(event.get("name") or "")

    async def push(self, event: dict[str, Any]) -> None:
        if event.get("html"):
            await self.send(text_data=event["html"])

    async def agent_typing(self, event: dict[str, Any]) -> None:
        html = render_to_string("channels_conn/chat_typing.html", {"name": event["name"]})
        await self.send(text_data=html)
