"""What every services module shares: the errors and inputs of the services, and the small
helpers that lock a ticket, write its history (through :func:`tickets.history.event_record`)
and save it with a live push.

LOCKING — one order everywhere, so two services never wait on each other in a circle:

1. customers first, several of them by ascending id (:func:`_lock_customers`);
2. then tickets, several of them by ascending id (``ticket_merge``);
3. then the rows under a ticket (its messages, a customer's identities).

A service that learns which customer it needs only from a ticket or a message reads that
without a lock, locks the customer, then locks the ticket and checks that what it read still
holds (``message_split``). Receiving (customer → open ticket), splitting, linking an identity
(both customers by id → the identity), reopening and creating a ticket (customer → ticket) all
follow it; a test drives each pair into the interleaving that deadlocked before."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.accounts import ChannelAccount
from deskconfig.models import ForbiddenWord
from helpdesk.models import User
from tickets import live
from tickets.forbidden import find_forbidden
from tickets.history import event_record
from tickets.models import (
    Attachment,
    Customer,
    Event,
    Message,
    Ticket,
    TicketStatus,
    keeps_one_open,
)

PREVIEW_LENGTH = 200


ESCALATION_MESSAGES = 100


class ActionRefused(ValidationError):
    """An action a person asked for cannot be done; the message says why, in their language."""


class OutboundTemplate(Protocol):
    """A channel's template message (WhatsApp's ``SentTemplate``), recorded in MESSAGE_OUT."""

    def as_data(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class IncomingFile:
    name: str
    content: bytes
    content_type: str = "application/octet-stream"
    content_id: str = ""


@dataclass(frozen=True)
class Inbound:
    """A message as a channel received it, before it is stored."""

    identity: str
    text: str = ""
    html: str = ""
    provider_id: str | None = None
    customer_name: str = ""
    subject: str = ""
    is_public: bool = False
    is_mention: bool = False
    reply_to_provider_id: str | None = None
    received_at: datetime.datetime | None = None
    attachments: Sequence[IncomingFile] = field(default_factory=tuple)
    # Email threading: the number of the ticket this message answers (from "[#1042]" in the
    # subject or its In-Reply-To). Used only when that ticket is open on the same account;
    # otherwise the normal rule applies. A sender other than the ticket's customer is accepted
    # and recorded as ``foreign_sender`` in the MESSAGE_IN event.
    thread_ticket_number: int | None = None
    # Sent by a robot (auto-reply, list, bounce): recorded so automatic actions can skip it.
    auto_submitted: bool = False
    # The card's one-line preview when it should differ from the text's first line (an
    # email's reply without the quoted history). The full text is kept either way.
    preview: str = ""
    # Email: a conversation is its thread, not the customer. Without an open threaded ticket
    # a new ticket is opened even when the customer has another one open on this account;
    # ``thread_ticket_number`` of a closed ticket reopens it within the reopen window.
    # Chat channels leave it False: one open conversation per customer and account.
    new_conversation: bool = False


@dataclass(frozen=True)
class Received:
    message: Message
    created: bool


def _event(ticket: Ticket, kind: str, actor: User | None, **data: Any) -> Event:
    """History for the services: pushed by the caller's ``_touch`` (or receive's push)."""
    return event_record(ticket=ticket, kind=kind, actor=actor, data=data, push=False)


def preview_line(text: str) -> str:
    """The first line written, as an inbox card shows it."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:PREVIEW_LENGTH]


def card_preview(text: str, files: Sequence[Any]) -> str:
    """A message's line on its card: the first line written, else its first file's name."""
    return preview_line(text) or (_file_name(files[0])[:PREVIEW_LENGTH] if files else "")


def _next_number(tenant_id: int) -> int:
    """Gapless per tenant: the increment is part of the creating transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_ticketcounter (tenant_id, last_number) VALUES (%s, 1)"
            " ON CONFLICT (tenant_id) DO UPDATE"
            " SET last_number = tickets_ticketcounter.last_number + 1"
            " RETURNING last_number",
            [tenant_id],
        )
        return int(cursor.fetchone()[0])


def _file_name(item: IncomingFile) -> str:
    """The base name of a file as people see it: never a path ("../../x", "C:\\x")."""
    return re.split(r"[\\/]", item.name or "")[-1].strip()[:255] or _("adjunto")


def _store_attachments(message: Message, files: Sequence[IncomingFile]) -> None:
    for item in files:
        name = _file_name(item)
        attachment = Attachment(
            tenant_id=message.tenant_id,
            message=message,
            name=name,
            size=len(item.content),
            content_type=(item.content_type or "application/octet-stream")[:120],
            sha256=hashlib.sha256(item.content).hexdigest(),
            content_id=item.content_id[:255],
        )
        attachment.file.save(name, ContentFile(item.content), save=False)
        attachment.save()


def _lock_customers(*customer_ids: int) -> dict[int, Customer]:
    """Lock customers in ascending id order (see LOCKING above); by id."""
    return {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=sorted(set(customer_ids)))
        .order_by("pk")
    }


def _has_open_chat_ticket(customer: Customer, account: ChannelAccount) -> bool:
    """Whether another open ticket would break ``ticket_one_open_chat`` (a chat account keeps
    one open conversation per customer). Call it with the customer locked."""
    return keeps_one_open(account.kind) and (
        Ticket.objects.filter(
            customer=customer,
            account=account,
            status=TicketStatus.OPEN,
            merged_into__isnull=True,
            single_open=True,
        ).exists()
    )


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _touch(ticket: Ticket, *fields: str) -> None:
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "updated_at"])
    live.ticket_changed(ticket)


def forbidden_words_in(text: str) -> list[str]:
    return find_forbidden(text, ForbiddenWord.objects.values_list("word", flat=True))
