"""WhatsApp's 24-hour customer service window.

WhatsApp accepts free-form messages only within 24 hours of the customer's last message; after
that (and to start a conversation) only an approved template may be sent (see
:mod:`channels_conn.whatsapp.templates`). The window is the customer's on the business number,
not the ticket's: a message the customer wrote on an earlier ticket of the same account keeps
it open too.

``tickets`` applies the rule without importing it: :func:`send_rule` is registered for
WhatsApp tickets in ``tickets.hooks`` by :class:`channels_conn.apps.ChannelsConnConfig`.
"""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.kinds import ChannelKind
from tickets.hooks import OutgoingAnswer
from tickets.models import Direction, Message, Ticket

WINDOW = datetime.timedelta(hours=24)


def is_whatsapp(ticket: Ticket) -> bool:
    return bool(ticket.account.kind == ChannelKind.WHATSAPP)


def last_customer_message_at(ticket: Ticket) -> datetime.datetime | None:
    """When the ticket's customer last wrote to the ticket's account (any of their tickets)."""
    latest: datetime.datetime | None = Message.objects.filter(
        account_id=ticket.account_id,
        ticket__customer_id=ticket.customer_id,
        direction=Direction.IN,
    ).aggregate(at=Max("created_at"))["at"]
    return latest


def window_closes_at(ticket: Ticket) -> datetime.datetime | None:
    """When the free-form window of a WhatsApp ticket closes (None: it never opened)."""
    last = last_customer_message_at(ticket)
    return None if last is None else last + WINDOW


def window_open(ticket: Ticket, now: datetime.datetime) -> bool:
    """Whether free-form messages may be sent on ``ticket`` at ``now``: always on channels
    without a window; on WhatsApp, while the customer's last message is under 24 hours old."""
    if not is_whatsapp(ticket):
        return True
    closes = window_closes_at(ticket)
    return closes is not None and now < closes


def window_closed_message() -> str:
    return _(
        "Han pasado más de 24 horas desde el último mensaje del cliente: en WhatsApp solo "
        "puedes responder con una plantilla aprobada."
    )


def send_rule(ticket: Ticket, answer: OutgoingAnswer) -> str | None:
    """Why an answer may not go out on a WhatsApp ticket now (None: it may): outside the
    window only a template is accepted."""
    if answer.templated or window_open(ticket, timezone.now()):
        return None
    return window_closed_message()
