"""What every services module shares: the errors and inputs of the services, and the small
helpers that lock a ticket, write its history (through :func:`tickets.history.event_record`)
and save it with a live push."""

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

from deskconfig.models import ForbiddenWord
from helpdesk.models import User
from tickets import live
from tickets.forbidden import find_forbidden
from tickets.history import event_record
from tickets.models import Attachment, Event, Message, Ticket

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


@dataclass(frozen=True)
class Received:
    message: Message
    created: bool


def _event(ticket: Ticket, kind: str, actor: User | None, **data: Any) -> Event:
    """History for the services: pushed by the caller's ``_touch`` (or receive's push)."""
    return event_record(ticket=ticket, kind=kind, actor=actor, data=data, push=False)


def _preview(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:PREVIEW_LENGTH]


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


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _touch(ticket: Ticket, *fields: str) -> None:
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "updated_at"])
    live.ticket_changed(ticket)


def forbidden_words_in(text: str) -> list[str]:
    return find_forbidden(text, ForbiddenWord.objects.values_list("word", flat=True))
