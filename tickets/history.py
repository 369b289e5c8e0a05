"""The one writer of a ticket's history: :func:`event_record` (and its batch variant
:func:`events_record_bulk`).

Every module that records what happened to a ticket (the services, routing, the skills bot,
automatic actions, the SLA clock) calls it, so who did it (``actor_kind``) is derived the same
way everywhere and the live push is never forgotten. A test fails if an ``Event`` is created
anywhere else (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tickets import live
from tickets.models import ActorKind, Event

if TYPE_CHECKING:
    from helpdesk.models import User
    from tickets.models import Ticket


def actor_kind_of(user: User | None) -> str:
    if user is None:
        return ActorKind.SYSTEM
    return ActorKind.BOT if user.is_bot else ActorKind.USER


def event_record(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    push: bool = True,
) -> Event:
    """Write one history event of ``ticket``; with ``push``, tell its pages and the inboxes
    after the commit. A caller that saves and pushes the ticket itself in the same
    transaction (the services' ``_touch``, ``message_receive``) passes ``push=False``: one
    change, one push."""
    event = Event.objects.create(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        kind=kind,
        actor_kind=actor_kind_of(actor),
        actor=actor,
        data=data or {},
    )
    if push:
        live.ticket_changed(ticket)
    return event


@dataclass(frozen=True)
class EventRow:
    """One event for :func:`events_record_bulk`: the arguments of :func:`event_record`."""

    ticket: Ticket
    kind: str
    actor: User | None = None
    data: dict[str, Any] = field(default_factory=dict)


def events_record_bulk(rows: Sequence[EventRow]) -> list[Event]:
    """:func:`event_record` for many events in one INSERT (a batch of received messages),
    with the same ``actor_kind``. Never pushes: the batch's caller publishes each ticket once
    after the commit."""
    if not rows:
        return []
    return Event.objects.bulk_create(
        Event(
            tenant_id=row.ticket.tenant_id,
            ticket=row.ticket,
            kind=row.kind,
            actor_kind=actor_kind_of(row.actor),
            actor=row.actor,
            data=row.data,
        )
        for row in rows
    )
