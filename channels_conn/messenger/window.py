"""Messenger's and Instagram's messaging windows, checked before an answer is queued.

A private message (DM) goes with ``messaging_type=RESPONSE`` within 24 hours of the customer's
last private message; after that, up to 7 days, a person (never the bot) may answer with the
``HUMAN_AGENT`` tag; beyond 7 days Meta refuses it (code 10, subcode 2018278), so we refuse it
first and the composer says why. A comment is answered publicly at any time, and privately
(Meta's private reply) once, within 7 days of the comment.

The window is the customer's on the page or Instagram account, not the ticket's: a message they
wrote on an earlier ticket of the same account counts. ``tickets`` applies :func:`send_rule`
through ``tickets.hooks`` (registered by ``channels_conn.apps``); the connector picks the
messaging type with :func:`dm_mode`, so both always agree.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.kinds import ChannelKind
from tickets.hooks import OutgoingAnswer
from tickets.models import Direction, Message, Ticket

WINDOW = datetime.timedelta(hours=24)
HUMAN_AGENT_WINDOW = datetime.timedelta(days=7)
PRIVATE_REPLY_WINDOW = datetime.timedelta(days=7)
KINDS = (ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM)


class Mode(enum.StrEnum):
    RESPONSE = "response"  # within 24 h: any answer
    HUMAN_AGENT = "human_agent"  # 24 h to 7 days: a person's answer, tagged
    CLOSED = "closed"  # more than 7 days (or the customer never wrote privately)


def dm_mode(last_dm_at: datetime.datetime | None, now: datetime.datetime) -> Mode:
    if last_dm_at is None:
        return Mode.CLOSED
    age = now - last_dm_at
    if age <= WINDOW:
        return Mode.RESPONSE
    return Mode.HUMAN_AGENT if age <= HUMAN_AGENT_WINDOW else Mode.CLOSED


@dataclass(frozen=True)
class Inbound:
    """When the customer last wrote privately and last commented, on the ticket's account."""

    dm_at: datetime.datetime | None
    comment_at: datetime.datetime | None


def last_inbound(ticket: Ticket) -> Inbound:
    """One query: the customer's latest private message and latest comment on the account."""
    found = Message.objects.filter(
        account_id=ticket.account_id,
        ticket__customer_id=ticket.customer_id,
        direction=Direction.IN,
    ).aggregate(
        dm=Max("created_at", filter=Q(is_public=False)),
        comment=Max("created_at", filter=Q(is_public=True)),
    )
    return Inbound(dm_at=found["dm"], comment_at=found["comment"])


@dataclass(frozen=True)
class ComposerState:
    """What the composer of a Facebook or Instagram ticket says about private messages."""

    mode: Mode
    closes_at: datetime.datetime | None  # when the current mode ends
    can_comment: bool  # the customer commented: a public (or private) reply is possible

    @property
    def blocked(self) -> bool:
        """Nothing can be sent at all: no DM window and no comment to answer."""
        return self.mode == Mode.CLOSED and not self.can_comment


def composer_state(ticket: Ticket, now: datetime.datetime) -> ComposerState | None:
    """None for tickets of other channels."""
    if ticket.account.kind not in KINDS:
        return None
    seen = last_inbound(ticket)
    mode = dm_mode(seen.dm_at, now)
    closes = None
    if seen.dm_at is not None and mode != Mode.CLOSED:
        closes = seen.dm_at + (WINDOW if mode == Mode.RESPONSE else HUMAN_AGENT_WINDOW)
    return ComposerState(mode=mode, closes_at=closes, can_comment=seen.comment_at is not None)


def closed_message() -> str:
    return _(
        "Pasaron más de 7 días desde el último mensaje privado del cliente: Meta no permite "
        "escribirle hasta que vuelva a escribir."
    )


def never_wrote_message() -> str:
    return _("El cliente no te ha escrito por mensaje privado: Meta no permite escribirle primero.")


def bot_late_message() -> str:
    return _(
        "Pasaron más de 24 horas desde el último mensaje del cliente: solo una persona puede "
        "responderle (etiqueta de agente humano de Meta)."
    )


def _answered_comment(answer: OutgoingAnswer) -> Message | None:
    reply = answer.reply_to
    if reply is not None and reply.is_public and reply.direction == Direction.IN:
        return reply
    return None


def private_reply_refusal(comment: Message, now: datetime.datetime) -> str | None:
    """Why Meta's private reply to ``comment`` is not possible (None: it is)."""
    from channels_conn.meta.models import MetaMessageInfo

    if now - comment.created_at > PRIVATE_REPLY_WINDOW:
        return _(
            "Pasaron más de 7 días desde el comentario: Meta ya no permite la respuesta privada."
        )
    info = MetaMessageInfo.objects.filter(message_id=comment.pk).values_list("data", flat=True)
    if any((data or {}).get("private_reply") for data in info):
        return _("Este comentario ya recibió su respuesta privada: Meta permite solo una.")
    return None


def send_rule(ticket: Ticket, answer: OutgoingAnswer) -> str | None:
    """Why an answer may not go out on a Facebook or Instagram ticket now (None: it may)."""
    now = timezone.now()
    seen = last_inbound(ticket)
    if answer.public:
        if seen.comment_at is None:
            return _("Este cliente no ha comentado: responde con un mensaje privado.")
        return None
    comment = _answered_comment(answer)
    if comment is None and seen.dm_at is None and seen.comment_at is not None:
        comment = _last_comment(ticket)
    if comment is not None:
        return private_reply_refusal(comment, now)
    mode = dm_mode(seen.dm_at, now)
    if mode == Mode.CLOSED:
        return closed_message() if seen.dm_at is not None else never_wrote_message()
    if mode == Mode.HUMAN_AGENT and answer.by_bot:
        return bot_late_message()
    return None


def _last_comment(ticket: Ticket) -> Message | None:
    return (
        Message.objects.filter(
            account_id=ticket.account_id,
            ticket__customer_id=ticket.customer_id,
            direction=Direction.IN,
            is_public=True,
        )
        .order_by("-created_at", "-id")
        .first()
    )
