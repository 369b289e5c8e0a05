"""Live connections of the tickets app: the inbox (one per open inbox tab) and the ticket page
(who else has it open, who is typing, new messages and header changes)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html

from channels_conn.webchat import presence
from helpdesk.consumers import TenantConsumer
from tickets.consumers_inbox import InboxState, inbox_frame, inbox_hub, load_state
from tickets.live import ticket_group
from workflow import presence as people_presence

log = logging.getLogger(__name__)


class InboxConsumer(TenantConsumer):
    """One per open page of the shell. On the inbox it keeps that person's columns in memory
    and turns each ticket event into swaps (see tickets.consumers_inbox); elsewhere it only
    forwards HTML pushed to the tenant or the person (the bell) and lights the indicator."""

    state: InboxState | None = None
    heartbeat: asyncio.Task[None] | None = None
    in_hub = False

    async def subscribe(self) -> None:
        if self.scope.get("query_string", b"").decode().find("inbox=1") >= 0:
            # Inbox events come through this process's hub of the tenant, once per process.
            # Joined before the handshake, not after the database work below: a socket that
            # joined late (seconds, with many sockets opening at once) never got the events
            # sent meanwhile. Until its columns are loaded the hub keeps its events.
            since = _page_rendered_at(self.scope.get("query_string", b"").decode())
            await inbox_hub(self.channel_layer, self.tenant_id).join(self, since=since)
            self.in_hub = True

    async def on_connected(self) -> None:
        await database_sync_to_async(presence.agent_connected)(self.tenant_id)
        # The person is connected for the assignment engine too, and the queue may drain
        # into their free slots (workflow.presence: connect, disconnect and a heartbeat
        # are this socket's only database writes).
        await self.in_tenant(_came_online, self.tenant_id, self.user_id)
        self.counted = True
        self.heartbeat = asyncio.ensure_future(self._beat())
        if self.in_hub:  # the hub keeps this socket's events until its columns are loaded
            hub = inbox_hub(self.channel_layer, self.tenant_id)
            try:
                state = await self.in_tenant(load_state, self.user_id)
            except BaseException:
                await hub.leave(self)  # its events must not pile up for a socket that failed
                raise
            await hub.start(self, state)

    async def _beat(self) -> None:
        """Refresh the person's presence while this socket lives (a killed worker stops
        beating, and the person drops out after workflow.presence.WINDOW)."""
        interval = people_presence.heartbeat_seconds()
        while True:
            await asyncio.sleep(interval)
            try:
                await self.in_tenant(people_presence.person_seen, self.user_id)
            except Exception:  # the database away for a moment: the next beat tries again
                log.warning("presence heartbeat failed", exc_info=True)

    async def disconnect(self, code: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if getattr(self, "counted", False):
            await database_sync_to_async(presence.agent_disconnected)(self.tenant_id)
            await self.in_tenant(people_presence.person_disconnected, self.user_id)
        await super().disconnect(code)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if getattr(self, "tenant_id", None):  # accepted: it may be in the hub
            await inbox_hub(self.channel_layer, self.tenant_id).leave(self)
        await super().websocket_disconnect(message)

    async def push(self, event: dict[str, Any]) -> None:
        if "snapshot" in event:  # an inbox event sent to this socket directly
            html = (
                inbox_frame(self.state, event, self.user_id, timezone.now()) if self.state else ""
            )
            if html:
                await self.send(text_data=html)
            return
        await super().push(event)


class TicketConsumer(TenantConsumer):
    """One per open ticket page. Viewers are announced to each other through the ticket's
    group: every page keeps its own list, so no shared state is needed."""

    ticket_id: int
    viewers: dict[str, str]
    joins_tenant_group = False  # only this ticket's group matters here

    async def authorize(self) -> bool:
        number = self.scope["url_route"]["kwargs"]["number"]
        found = await self.in_tenant(_ticket_and_visitor, number)
        if found is None:
            return False  # another tenant's number, or none: refused before the handshake
        self.ticket_id, self.visitor_group = found
        return True

    async def on_connected(self) -> None:
        self.viewers = {}
        self.name = str(self.scope["user"])
        group = ticket_group(self.ticket_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)
        await self._announce("hello")

    async def disconnect(self, code: int) -> None:
        if getattr(self, "ticket_id", None):
            await self._announce("bye")
        await super().disconnect(code)

    async def _announce(self, kind: str) -> None:
        await self.channel_layer.group_send(
            ticket_group(self.ticket_id),
            {
                "type": "presence",
                "kind": kind,
                "channel": self.channel_name,
                "user_id": self.user_id,
                "name": self.name,
            },
        )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            data = json.loads(text_data or "{}")
        except ValueError:
            return
        if data.get("typing") and getattr(self, "ticket_id", None):
            await self.channel_layer.group_send(
                ticket_group(self.ticket_id),
                {
                    "type": "typing",
                    "channel": self.channel_name,
                    "user_id": self.user_id,
                    "name": self.name,
                },
            )
            if self.visitor_group:  # a web chat customer sees the agent typing too
                await self.channel_layer.group_send(
                    self.visitor_group,
                    {"type": "agent_typing", "name": self.scope["user"].get_short_name()},
                )

    async def presence(self, event: dict[str, Any]) -> None:
        if event["channel"] == self.channel_name:
            return
        if event["kind"] == "bye":
            self.viewers.pop(event["channel"], None)
        else:
            known = event["channel"] in self.viewers
            self.viewers[event["channel"]] = event["name"]
            if event["kind"] == "hello" and not known:
                # Tell the newcomer we are here too.
                await self.channel_layer.send(
                    event["channel"],
                    {
                        "type": "presence",
                        "kind": "here",
                        "channel": self.channel_name,
                        "user_id": self.user_id,
                        "name": self.name,
                    },
                )
        await self._send_presence()

    async def _send_presence(self) -> None:
        names = sorted(set(self.viewers.values()))
        html = render_to_string("tickets/partials/presence.html", {"names": names})
        await self.send(text_data=html)

    async def typing(self, event: dict[str, Any]) -> None:
        if event["channel"] == self.channel_name or event["user_id"] == self.user_id:
            return
        html = render_to_string("tickets/partials/typing.html", {"name": event["name"]})
        await self.send(text_data=html)

    async def push(self, event: dict[str, Any]) -> None:
        if event.get("refresh") == "header":
            # The page fetches its header again (one request per viewer of this ticket).
            await self.send(
                text_data=str(
                    format_html(
                        '<div id="live-signal" hx-swap-oob="true" hx-get="/tickets/{}/header/"'
                        ' hx-trigger="load" hx-target="#ticket-header" hx-swap="outerHTML"'
                        " hidden></div>",
                        self.scope["url_route"]["kwargs"]["number"],
                    )
                )
            )
            return
        if event.get("refresh") == "thread":
            # The conversation changed as a whole (a merge brought another ticket's messages):
            # the page fetches its thread again.
            await self.send(
                text_data=str(
                    format_html(
                        '<div id="live-thread" hx-swap-oob="true" hx-get="/tickets/{}/"'
                        ' hx-trigger="load" hx-select="#thread" hx-target="#thread"'
                        ' hx-swap="outerHTML" hidden></div>',
                        self.scope["url_route"]["kwargs"]["number"],
                    )
                )
            )
            return
        await super().push(event)


def _page_rendered_at(query: str) -> float | None:
    """The inbox page's render time (``since``, epoch seconds) from the socket's URL."""
    values = parse_qs(query).get("since")
    try:
        since = float(values[0]) if values else math.nan
    except ValueError:
        return None
    return since if math.isfinite(since) else None


def _came_online(tenant_id: int, user_id: int) -> None:
    from workflow.assignment import drain_queue

    people_presence.person_connected(user_id)
    drain_queue(tenant_id)


def _ticket_and_visitor(number: int) -> tuple[int, str] | None:
    """The ticket's id and, for a web chat ticket, its visitor's group ("" otherwise)."""
    from channels_conn.webchat.visitors import visitor_group
    from tickets.models import CustomerIdentity, Ticket

    row = (
        Ticket.objects.filter(number=number)
        .values_list("pk", "account_id", "account__kind", "customer_id")
        .first()
    )
    if row is None:
        return None
    ticket_id, account_id, kind, customer_id = row
    group = ""
    if kind == "webchat":
        visitor = (
            CustomerIdentity.objects.filter(customer_id=customer_id, kind="webchat")
            .values_list("value", flat=True)
            .first()
        )
        group = visitor_group(account_id, visitor) if visitor else ""
    return ticket_id, group
