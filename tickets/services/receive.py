"""Receiving a customer's message: the customer, the open ticket (or a new one, with its SLA
clock), the message, the workflow (through ``tickets.hooks``) and the live push."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.models import TenantSettings
from helpdesk.models import User
from tickets import hooks, live
from tickets.models import (
    IDENTITY_OF_CHANNEL,
    AuthorKind,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Ticket,
    TicketStatus,
    keeps_one_open,
)
from tickets.sanitize import sanitize_html
from tickets.services.base import (
    Inbound,
    Received,
    _event,
    _lock,
    _next_number,
    _store_attachments,
    card_preview,
)
from tickets.services.customers import customer_resolve
from tickets.sla import resolution_deadline, sla_deadlines


def _open_ticket_for(
    customer: Customer, account: ChannelAccount, at: datetime.datetime
) -> tuple[Ticket, bool]:
    """The ticket a new customer message belongs to: the open one on this account, a recently
    closed one within the tenant's reopen window, or a new one linked to the previous."""
    ticket = (
        Ticket.objects.select_for_update()
        .filter(customer=customer, account=account, status=TicketStatus.OPEN)
        .order_by("-id")
        .first()
    )
    if ticket is not None:
        return ticket, False
    previous = Ticket.objects.filter(customer=customer).order_by("-id").first()
    reopened = _reopen_within_window(previous, account, at)
    if reopened is not None:
        return reopened, False
    return _ticket_new(customer, account, at, previous=previous), True


def _conversation_ticket(
    customer: Customer, account: ChannelAccount, at: datetime.datetime, number: int | None
) -> tuple[Ticket, bool]:
    """Email (``Inbound.new_conversation``): the closed ticket the mail answers, reopened
    within the window; otherwise a new ticket linked to the customer's previous one."""
    answered = (
        Ticket.objects.filter(account=account, number=number, merged_into__isnull=True).first()
        if number is not None
        else None
    )
    reopened = _reopen_within_window(answered, account, at)
    if reopened is not None:
        return reopened, False
    previous = answered or Ticket.objects.filter(customer=customer).order_by("-id").first()
    return _ticket_new(customer, account, at, previous=previous), True


def _reopen_within_window(
    previous: Ticket | None, account: ChannelAccount, at: datetime.datetime
) -> Ticket | None:
    """``previous`` reopened when it was closed on this account within the reopen window."""
    if previous is None:
        return None
    window = (
        TenantSettings.objects.filter(tenant_id=previous.tenant_id)
        .values_list("reopen_window_hours", flat=True)
        .first()
        or 0
    )
    if not (
        window
        and previous.account_id == account.pk
        and previous.closed_at is not None
        and previous.merged_into_id is None
        and at - previous.closed_at <= datetime.timedelta(hours=window)
    ):
        return None
    ticket = _lock(previous)
    before = ticket.status
    ticket.status = TicketStatus.OPEN
    ticket.closed_at = None
    ticket.save(update_fields=["status", "closed_at"])
    _event(ticket, EventKind.STATUS, None, before=before, after=TicketStatus.OPEN, reopened=True)
    return ticket


def _ticket_new(
    customer: Customer,
    account: ChannelAccount,
    at: datetime.datetime,
    *,
    previous: Ticket | None,
    author: User | None = None,
) -> Ticket:
    """A new ticket with the next number, linked to the customer's previous one."""
    ticket = Ticket.objects.create(
        tenant_id=customer.tenant_id,
        number=_next_number(customer.tenant_id),
        customer=customer,
        account=account,
        assignee=author,
        previous_ticket=previous,
        created_at=at,
        updated_at=at,
        resolution_due_at=resolution_deadline(account, at),
        single_open=keeps_one_open(account.kind),
    )
    extra = {"proactive": True} if author is not None else {}
    _event(ticket, EventKind.CREATED, author, account=account.name, **extra)
    return ticket


def _start_sla_clock(
    ticket: Ticket, account: ChannelAccount, at: datetime.datetime, *, risk: int | None = None
) -> None:
    """``risk``: the tenant's at-risk percentage when the caller read it already (a batch)."""
    if ticket.waiting_since is None:
        ticket.waiting_since = at
        # Business time when the account has a schedule; no due time when it is never open.
        ticket.sla_due_at, ticket.sla_risk_at = sla_deadlines(account, at, risk=risk)
        ticket.sla_breached = False


def _threaded_ticket(account: ChannelAccount, number: int | None) -> Ticket | None:
    """The open ticket ``number`` of ``account``, locked; None when absent or not open."""
    if number is None:
        return None
    return (
        Ticket.objects.select_for_update()
        .filter(account=account, number=number, status=TicketStatus.OPEN, merged_into__isnull=True)
        .first()
    )


def message_receive(*, account: ChannelAccount, inbound: Inbound) -> Received:
    """Store a customer's message on its ticket. Idempotent on the provider id."""
    if inbound.provider_id:
        existing = Message.objects.filter(account=account, provider_id=inbound.provider_id).first()
        if existing is not None:
            return Received(existing, False)
    at = inbound.received_at or timezone.now()
    kind = IDENTITY_OF_CHANNEL[account.kind]
    try:
        with transaction.atomic():
            customer, _identity = customer_resolve(
                tenant_id=account.tenant_id,
                kind=kind,
                value=inbound.identity,
                name=inbound.customer_name,
            )
            customer = Customer.objects.select_for_update().get(pk=customer.pk)
            threaded = _threaded_ticket(account, inbound.thread_ticket_number)
            if threaded is not None:
                ticket, created = threaded, False
            elif inbound.new_conversation:
                ticket, created = _conversation_ticket(
                    customer, account, at, inbound.thread_ticket_number
                )
            else:
                ticket, created = _open_ticket_for(customer, account, at)
            reply_to = None
            if inbound.reply_to_provider_id:
                reply_to = Message.objects.filter(
                    account=account, provider_id=inbound.reply_to_provider_id
                ).first()
            message = Message.objects.create(
                tenant_id=account.tenant_id,
                ticket=ticket,
                account=account,
                direction=Direction.IN,
                is_public=inbound.is_public,
                author_kind=AuthorKind.CUSTOMER,
                text=inbound.text,
                html=sanitize_html(inbound.html),
                provider_id=inbound.provider_id or None,  # NULL, never "" (see the model)
                reply_to=reply_to,
                is_mention=inbound.is_mention,
                status=DeliveryStatus.RECEIVED,
                created_at=at,
            )
            _store_attachments(message, inbound.attachments)
            if created and inbound.subject:
                ticket.subject = inbound.subject[:255]
            ticket.last_customer_message_at = at
            ticket.awaiting_response = True
            ticket.last_message_preview = card_preview(
                inbound.preview or inbound.text, inbound.attachments
            )
            _start_sla_clock(ticket, account, at)
            ticket.updated_at = timezone.now()
            ticket.save()
            extra: dict[str, Any] = {}
            if ticket.customer_id != customer.pk:
                # Kept so the message can be split into its sender's own ticket.
                extra["foreign_sender"] = True
                extra["sender"] = customer.pk
            if inbound.auto_submitted:
                extra["auto_submitted"] = True
            _event(ticket, EventKind.MESSAGE_IN, None, message=message.pk, **extra)
            hooks.workflow().after_receive(ticket, message, created=created)
            live.ticket_changed(ticket, reason="customer_message")
            live.message_added(message)
    except IntegrityError:
        # The same provider id, received twice at the same moment: the other one won.
        if inbound.provider_id:
            existing = Message.objects.filter(
                account=account, provider_id=inbound.provider_id
            ).first()
            if existing is not None:
                return Received(existing, False)
        raise
    return Received(message, True)
