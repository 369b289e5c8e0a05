"""Merging two tickets of one customer, and splitting a message off into a ticket of its own."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.accounts import ChannelAccount
from helpdesk.models import User
from tickets import hooks, live
from tickets.models import Customer, Direction, Event, EventKind, Message, Ticket, TicketStatus
from tickets.services.base import (
    ActionRefused,
    _event,
    _has_open_chat_ticket,
    _lock,
    _lock_customers,
    _touch,
    preview_line,
)
from tickets.services.receive import _start_sla_clock, _ticket_new


def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Show the source's conversation inside the target; the source is closed with a link."""
    if source.pk == target.pk:
        raise ActionRefused(_("Un ticket no se fusiona consigo mismo."))
    if source.customer_id != target.customer_id:
        raise ActionRefused(_("Solo se fusionan tickets del mismo cliente."))
    with transaction.atomic():
        first, second = sorted([source.pk, target.pk])
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update()
            .filter(pk__in=[first, second])
            .order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id or target.merged_into_id:
            raise ActionRefused(_("Uno de los tickets ya está fusionado."))
        # Tickets merged into the source follow it into the target.
        Ticket.objects.filter(merged_into=source).update(merged_into=target)
        source.merged_into = target
        source.status = TicketStatus.CLOSED if source.addressed else TicketStatus.IGNORED
        source.closed_at = timezone.now()
        target.awaiting_response = target.awaiting_response or (
            source.last_customer_message_at is not None
            and (
                target.last_agent_message_at is None
                or source.last_customer_message_at > target.last_agent_message_at
            )
        )
        if target.awaiting_response:
            _carry_sla_clock(source, target)
        source.awaiting_response = False
        source.waiting_since = source.sla_due_at = source.sla_risk_at = None
        source.sla_breached = False
        target.has_comments = target.has_comments or source.has_comments
        _event(source, EventKind.MERGED, actor, into=target.number)
        _event(target, EventKind.MERGED, actor, source=source.number)
        _touch(
            source,
            "merged_into",
            "status",
            "closed_at",
            "awaiting_response",
            "waiting_since",
            "sla_due_at",
            "sla_risk_at",
            "sla_breached",
        )
        _touch(
            target,
            "awaiting_response",
            "has_comments",
            "waiting_since",
            "sla_due_at",
            "sla_risk_at",
            "sla_breached",
        )
        live.thread_replaced(target)
    return target


def _carry_sla_clock(source: Ticket, target: Ticket) -> None:
    """The customer waits since the earliest of the two waits: the target keeps that clock."""
    if source.waiting_since is None:
        return
    if target.waiting_since is None or source.waiting_since < target.waiting_since:
        target.waiting_since = source.waiting_since
        target.sla_due_at = source.sla_due_at
        target.sla_risk_at = source.sla_risk_at
        target.sla_breached = source.sla_breached


def _message_sender(message: Message) -> Customer:
    """Who wrote an inbound message: recorded in its event when it was not the customer."""
    event = Event.objects.filter(
        ticket_id=message.ticket_id, kind=EventKind.MESSAGE_IN, data__message=message.pk
    ).first()
    sender_id = (event.data or {}).get("sender") if event else None
    if sender_id:
        sender = Customer.objects.filter(pk=sender_id).first()
        if sender is not None:
            return sender
    return message.ticket.customer


def _refresh_preview(ticket: Ticket) -> None:
    last = Message.objects.filter(ticket=ticket).order_by("-created_at", "-id").first()
    ticket.last_message_preview = preview_line(last.text) if last else ""


def message_split(*, message: Message, actor: User) -> Ticket:
    """Move a customer's message that was threaded into the wrong ticket into a new ticket of
    its sender, on the same account. The new ticket waits for an answer like any other."""
    if message.direction != Direction.IN:
        raise ActionRefused(_("Solo se puede separar un mensaje del cliente."))
    with transaction.atomic():
        # Customers before the ticket (LOCKING in tickets/services/base.py): receiving takes
        # the sender, then the ticket; taking them the other way round deadlocked with it.
        sender_id = _message_sender(message).pk
        sender = _lock_customers(sender_id, message.ticket.customer_id)[sender_id]
        source = _lock(message.ticket)
        if not Message.objects.filter(pk=message.pk, ticket=source).exists():
            raise ActionRefused(_("Ese mensaje ya no está en este ticket."))
        if source.status != TicketStatus.OPEN or source.merged_into_id:
            raise ActionRefused(_("Solo se separan mensajes de un ticket abierto."))
        if not Message.objects.filter(ticket=source).exclude(pk=message.pk).exists():
            raise ActionRefused(_("Es el único mensaje del ticket: no hay nada que separar."))
        account = ChannelAccount.objects.get(pk=message.account_id)
        if _has_open_chat_ticket(sender, account):
            raise ActionRefused(
                _("El cliente ya tiene un ticket abierto en esta cuenta: no se puede separar.")
            )
        target = _ticket_new(sender, account, message.created_at, previous=None)
        Message.objects.filter(pk=message.pk).update(ticket=target)
        target.subject = source.subject
        target.last_customer_message_at = message.created_at
        target.awaiting_response = True
        target.last_message_preview = preview_line(message.text)
        _start_sla_clock(target, account, message.created_at)
        target.updated_at = timezone.now()
        target.save()
        _event(target, EventKind.SPLIT, actor, message=message.pk, from_ticket=source.number)
        _event(source, EventKind.SPLIT, actor, message=message.pk, to_ticket=target.number)
        _refresh_preview(source)
        _touch(source, "last_message_preview")
        live.ticket_changed(target, reason="customer_message")
        hooks.workflow().request_assignment(target)
    return target
