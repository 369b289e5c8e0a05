"""Our messages: an answer queued on the ticket's account, its delivery through the channel's
connector (after the commit), and its status afterwards (sent, delivered, read, failed, retried)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, CharField, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.accounts import ChannelAccount
from helpdesk.models import User
from tickets import hooks, live
from tickets.models import AuthorKind, DeliveryStatus, Direction, EventKind, Message, Ticket
from tickets.services.base import (
    ActionRefused,
    IncomingFile,
    OutboundTemplate,
    _event,
    _lock,
    _store_attachments,
    _touch,
    card_preview,
    forbidden_words_in,
)


def _reply_visibility(ticket: Ticket, reply_to: Message | None) -> bool:
    """A reply is public when it answers a public message (a comment, a mention)."""
    if reply_to is not None:
        return reply_to.is_public
    last_in = (
        Message.objects.filter(ticket=ticket, direction=Direction.IN)
        .order_by("-created_at", "-id")
        .values_list("is_public", flat=True)
        .first()
    )
    return bool(last_in)


def _thread_ticket_ids(ticket: Ticket) -> list[int]:
    return [ticket.pk, *Ticket.objects.filter(merged_into=ticket).values_list("pk", flat=True)]


def message_send(
    *,
    ticket: Ticket,
    author: User,
    text: str,
    reply_to: Message | None = None,
    files: Sequence[IncomingFile] = (),
    is_public: bool | None = None,
    template: OutboundTemplate | None = None,
) -> Message:
    """Queue an answer on the ticket's account; the send task delivers it after the commit.

    ``template`` is given by a channel's template sender only (WhatsApp's
    ``message_send_template``): the channel's rule (``tickets.hooks.send_refusal``, WhatsApp's
    24-hour window, Messenger's 7 days) may accept nothing else."""
    text = (text or "").strip()
    if not text and not files:
        raise ActionRefused(_("Escribe un mensaje o adjunta un archivo."))
    words = forbidden_words_in(text)
    if words:
        raise ActionRefused(
            _("El mensaje tiene palabras no permitidas: %(words)s. Cámbialas y vuelve a enviar.")
            % {"words": ", ".join(words)}
        )
    if reply_to is not None and reply_to.ticket_id not in _thread_ticket_ids(ticket):
        raise ActionRefused(_("Solo puedes responder a mensajes de este ticket."))
    public = _reply_visibility(ticket, reply_to) if is_public is None else is_public
    answer = hooks.OutgoingAnswer(
        templated=template is not None, public=public, reply_to=reply_to, by_bot=author.is_bot
    )
    refusal = hooks.send_refusal(ticket, answer)
    if refusal:
        raise ActionRefused(refusal)
    if files and public:
        raise ActionRefused(_("Las respuestas públicas no pueden llevar adjuntos."))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.merged_into_id:
            raise ActionRefused(_("Este ticket se fusionó con otro: responde en ese."))
        message = Message.objects.create(
            tenant_id=ticket.tenant_id,
            ticket=ticket,
            account_id=ticket.account_id,
            direction=Direction.OUT,
            is_public=public,
            author_kind=AuthorKind.BOT if author.is_bot else AuthorKind.AGENT,
            author=author,
            text=text,
            reply_to=reply_to,
            status=DeliveryStatus.QUEUED,
            created_at=now,
        )
        _store_attachments(message, files)
        fields = ["last_agent_message_at"]
        if not author.is_bot:
            # A bot's acknowledgement, menu or welcome never hides what the customer wrote:
            # the card keeps the customer's words until a person answers.
            fields.append("last_message_preview")
            ticket.last_message_preview = card_preview(text, files)
        ticket.last_agent_message_at = now
        # A person's answer stops the SLA clock and makes the ticket "addressed" only once the
        # channel accepted it (``_answer_accepted``): a reply that fails is no answer.
        extra = {"template": template.as_data()} if template is not None else {}
        _event(ticket, EventKind.MESSAGE_OUT, author, message=message.pk, public=public, **extra)
        _touch(ticket, *fields)
        live.message_added(message)
        _enqueue_delivery(message)
    return message


def _record_human_answer(ticket: Ticket, author: User, now: datetime.datetime) -> None:
    if ticket.waiting_since is not None:
        seconds = int((now - ticket.waiting_since).total_seconds())
        late = ticket.sla_due_at is not None and now > ticket.sla_due_at
        _event(ticket, EventKind.SLA, author, response_seconds=seconds, late=late)
    ticket.addressed = True
    ticket.awaiting_response = False
    ticket.first_response_at = ticket.first_response_at or now
    ticket.waiting_since = None
    ticket.sla_due_at = ticket.sla_risk_at = None
    ticket.sla_breached = False


def _enqueue_delivery(message: Message) -> None:
    from tickets.tasks import deliver_message

    tenant_id, message_id = message.tenant_id, message.pk
    transaction.on_commit(lambda: deliver_message.delay(tenant_id, message_id))


def message_deliver(*, message_id: int) -> None:
    """Hand a queued message to its connector (outside any transaction: network!), then
    record the outcome. Raises ConnectorError when a transient failure should be retried."""
    from tickets.connectors import ConnectorError, connector_for

    message = (
        Message.objects.select_related("ticket__customer", "account").filter(pk=message_id).first()
    )
    if message is None or message.status != DeliveryStatus.QUEUED:
        return  # delivered already (a redelivered task) or deleted
    if message.provider_id:
        # The provider accepted it on an earlier attempt that failed afterwards: finish
        # recording that, never send it again (the customer would get it twice).
        _record_accepted(message, message.provider_id)
        return
    # Claim this attempt: of two workers holding the same task, only one passes.
    claimed = Message.objects.filter(
        pk=message.pk, status=DeliveryStatus.QUEUED, send_attempts=message.send_attempts
    ).update(send_attempts=message.send_attempts + 1)
    if not claimed:
        return
    try:
        result = connector_for(message.account.kind).send(message.account, message)
    except ConnectorError as exc:
        if exc.permanent:
            message_fail(message_id=message.pk, reason=exc.reason)
            return
        raise
    _record_accepted(message, result.provider_id or None)  # NULL, never "" (see the model)


def message_accepted(
    *, message_id: int, provider_id: str, at: datetime.datetime | None = None
) -> None:
    """The channel accepted a queued message (its connector, or a history imported as sent):
    it is sent, with the provider's id, and a person's reply now answers the ticket."""
    message = Message.objects.select_related("ticket").get(pk=message_id)
    if message.status == DeliveryStatus.QUEUED:
        _record_accepted(message, provider_id or None, at=at)


ACCEPTED_WRITE_TRIES = 3


def _record_accepted(
    message: Message, provider_id: str | None, *, at: datetime.datetime | None = None
) -> None:
    """The provider accepted ``message`` (queued until now): one autocommit UPDATE records it
    (the id and SENT) before anything else can fail. A dropped database connection is
    reopened and the write tried again here rather than by a task retry, which would send the
    message again. Then a person's reply answers the ticket."""
    for attempt in range(1, ACCEPTED_WRITE_TRIES + 1):
        try:
            updated = Message.objects.filter(pk=message.pk).update(
                provider_id=Coalesce(
                    F("provider_id"), Value(provider_id, output_field=CharField())
                ),
                status=Case(
                    When(status=DeliveryStatus.QUEUED, then=Value(DeliveryStatus.SENT)),
                    default=F("status"),
                ),
                sent_at=Coalesce(
                    F("sent_at"), Value(at or timezone.now(), output_field=DateTimeField())
                ),
                failure_reason=Case(  # a reason shown while retrying is no longer true
                    When(status=DeliveryStatus.QUEUED, then=Value("")),
                    default=F("failure_reason"),
                ),
            )
            break
        except (OperationalError, InterfaceError):
            if attempt == ACCEPTED_WRITE_TRIES or connection.in_atomic_block:
                raise
            connection.close()  # the next query opens a new one (with the tenant context)
    if updated:
        message.refresh_from_db()
        with transaction.atomic():
            live.message_updated(message)
            _answer_accepted(message)


ANSWER_FIELDS = (
    "addressed",
    "awaiting_response",
    "first_response_at",
    "waiting_since",
    "sla_due_at",
    "sla_risk_at",
    "sla_breached",
)


def _answer_accepted(message: Message) -> None:
    """A person's reply the channel accepted is an answer: the ticket is addressed and its SLA
    clock stops (a bot's message never is). When the customer wrote again after the reply was
    written, the ticket stays waiting for the newer message."""
    author = message.author
    if message.author_kind != AuthorKind.AGENT or author is None:
        return
    ticket = _lock(message.ticket)
    at = message.sent_at or timezone.now()
    last_customer = ticket.last_customer_message_at
    if last_customer is not None and last_customer > message.created_at:
        ticket.addressed = True
        ticket.first_response_at = ticket.first_response_at or at
        _touch(ticket, "addressed", "first_response_at")
        return
    _record_human_answer(ticket, author, at)
    _touch(ticket, *ANSWER_FIELDS)


def message_retrying(*, message_id: int, reason: str) -> None:
    """A send failed for a reason that may pass (the server unreachable, a timeout): the
    message stays queued and says why and that it is being retried, at once and live, instead
    of showing «En cola» silently until the last try."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != DeliveryStatus.QUEUED:
            return
        message.failure_reason = reason[:500]
        message.save(update_fields=["failure_reason"])
        live.message_updated(message)


def message_fail(*, message_id: int, reason: str) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
        message.status = DeliveryStatus.FAILED
        message.failure_reason = reason[:500]
        message.save(update_fields=["status", "failure_reason"])
        _event(message.ticket, EventKind.SEND_FAILED, None, message=message.pk, reason=reason[:500])
        live.message_updated(message)
        live.ticket_changed(message.ticket)


def message_update_status(
    *, account: ChannelAccount, provider_id: str, status: str, reason: str = ""
) -> None:
    """A provider's delivery receipt (delivered, read, failed) for one of our messages."""
    order: list[str] = [DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ]
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(account=account, provider_id=provider_id, direction=Direction.OUT)
            .first()
        )
        if message is None:
            return
        if status == DeliveryStatus.FAILED:
            message.status, message.failure_reason = status, reason[:500]
        elif status in order and (
            message.status not in order or order.index(status) > order.index(message.status)
        ):
            message.status = status  # receipts arrive out of order: never go backwards
        else:
            return
        message.save(update_fields=["status", "failure_reason"])
        live.message_updated(message)


def message_retry(*, message: Message, actor: User) -> Message:
    """Queue a failed message again; its history says who retried and why it had failed."""
    with transaction.atomic():
        ticket = _lock(message.ticket)
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status != DeliveryStatus.FAILED:
            raise ActionRefused(_("Solo se reintenta un mensaje que falló."))
        reason = message.failure_reason
        message.status = DeliveryStatus.QUEUED
        message.failure_reason = ""
        message.save(update_fields=["status", "failure_reason"])
        _event(ticket, EventKind.SEND_RETRIED, actor, message=message.pk, reason=reason)
        _touch(ticket)
        live.message_updated(message)
        _enqueue_delivery(message)
    return message
