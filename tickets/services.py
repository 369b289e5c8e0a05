"""Every change to tickets: one function each, one transaction, a history event, a live event
after the commit. Views, tasks and channel connectors call these and nothing else writes.

Locks, when several rows are involved, are always taken in the same order: counter, customer,
ticket (lower id first), message.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from admin_config import assignment, flow
from admin_config.message_templates import placeholder_count
from admin_config.models import (
    Department,
    ForbiddenWord,
    MetadataField,
    TenantSettings,
    WhatsAppTemplate,
)
from channels_conn.kinds import ChannelKind
from channels_conn.models import ChannelAccount
from helpdesk.models import User
from tickets import live
from tickets.forbidden import find_forbidden
from tickets.identities import display_identity, normalize_identity, normalize_rut
from tickets.metadata import active_fields, clean_values, missing_required
from tickets.models import (
    IDENTITY_OF_CHANNEL,
    ActorKind,
    Attachment,
    AuthorKind,
    Comment,
    CommentMention,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    Direction,
    Event,
    EventKind,
    IdentityKind,
    Message,
    Sentiment,
    Ticket,
    TicketStatus,
)
from tickets.sanitize import sanitize_html
from tickets.sla import resolution_deadline, sla_deadlines
from tickets.whatsapp import SentTemplate, fill_template, is_whatsapp, window_open

PREVIEW_LENGTH = 200
ESCALATION_MESSAGES = 100


class ActionRefused(ValidationError):
    """An action a person asked for cannot be done; the message says why, in their language."""


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


# --- helpers -------------------------------------------------------------------------------


def _actor_kind(user: User | None) -> str:
    if user is None:
        return ActorKind.SYSTEM
    return ActorKind.BOT if user.is_bot else ActorKind.USER


def _event(ticket: Ticket, kind: str, actor: User | None, **data: Any) -> Event:
    return Event.objects.create(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        kind=kind,
        actor_kind=_actor_kind(actor),
        actor=actor,
        data=data,
    )


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


# --- customers -----------------------------------------------------------------------------


def customer_resolve(
    *, tenant_id: int, kind: str, value: str, name: str = ""
) -> tuple[Customer, CustomerIdentity]:
    """The customer known by this identity, created on first contact. Safe under races: the
    identity is unique per tenant and kind."""
    normalized = normalize_identity(kind, value)
    if not normalized:
        raise ActionRefused(_("El mensaje no trae con qué identificar al cliente."))
    identity = (
        CustomerIdentity.objects.select_related("customer")
        .filter(kind=kind, value=normalized)
        .first()
    )
    if identity is not None:
        customer = identity.customer
        if name and not customer.name:
            customer.name = name[:200]
            customer.save(update_fields=["name"])
        return customer, identity
    try:
        with transaction.atomic():
            customer = Customer.objects.create(tenant_id=tenant_id, name=name[:200])
            identity = CustomerIdentity.objects.create(
                tenant_id=tenant_id,
                customer=customer,
                kind=kind,
                value=normalized,
                display=display_identity(kind, normalized),
            )
    except IntegrityError:
        # Someone else created it between our read and our insert.
        identity = CustomerIdentity.objects.select_related("customer").get(
            kind=kind, value=normalized
        )
    return identity.customer, identity


def customer_update(*, customer: Customer, actor: User, name: str, rut: str) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = {"name": customer.name, "rut": customer.rut}
        customer.name = name.strip()[:200]
        if rut.strip():
            try:
                customer.rut = normalize_rut(rut)
            except ValueError:
                raise ActionRefused(_("El RUT «%(rut)s» no es válido.") % {"rut": rut}) from None
        else:
            customer.rut = ""
        customer.save(update_fields=["name", "rut"])
        after = {"name": customer.name, "rut": customer.rut}
        for ticket in customer.tickets.filter(status=TicketStatus.OPEN):
            _event(ticket, EventKind.CUSTOMER_METADATA, actor, before=before, after=after)
    return customer


def customer_set_metadata(*, customer: Customer, actor: User, values: dict[str, Any]) -> Customer:
    fields = active_fields(MetadataField.Target.CUSTOMER)
    cleaned = clean_values(fields, values)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = customer.metadata
        customer.metadata = cleaned
        customer.save(update_fields=["metadata"])
        for ticket in customer.tickets.filter(status=TicketStatus.OPEN):
            _event(ticket, EventKind.CUSTOMER_METADATA, actor, before=before, after=cleaned)
    return customer


def customer_set_bot(*, customer: Customer, actor: User, enabled: bool) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        customer.bot_disabled = not enabled
        customer.save(update_fields=["bot_disabled"])
        for ticket in customer.tickets.filter(status=TicketStatus.OPEN):
            _event(ticket, EventKind.BOT, actor, enabled=enabled)
    return customer


# --- receiving -----------------------------------------------------------------------------


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
    )
    extra = {"proactive": True} if author is not None else {}
    _event(ticket, EventKind.CREATED, author, account=account.name, **extra)
    return ticket


def _start_sla_clock(ticket: Ticket, account: ChannelAccount, at: datetime.datetime) -> None:
    if ticket.waiting_since is None:
        ticket.waiting_since = at
        # Business time when the account has a schedule; no due time when it is never open.
        ticket.sla_due_at, ticket.sla_risk_at = sla_deadlines(account, at)
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
            ticket.last_message_preview = _preview(inbound.preview or inbound.text) or (
                _file_name(inbound.attachments[0])[:PREVIEW_LENGTH] if inbound.attachments else ""
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
            flow.after_receive(ticket, message, created=created)
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


# --- sending -------------------------------------------------------------------------------


def forbidden_words_in(text: str) -> list[str]:
    return find_forbidden(text, ForbiddenWord.objects.values_list("word", flat=True))


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
    template: SentTemplate | None = None,
) -> Message:
    """Queue an answer on the ticket's account; the send task delivers it after the commit.

    ``template`` is given by ``message_send_template`` only: outside WhatsApp's 24-hour window
    nothing else may be sent."""
    text = (text or "").strip()
    if not text and not files:
        raise ActionRefused(_("Escribe un mensaje o adjunta un archivo."))
    if template is None and not window_open(ticket, timezone.now()):
        raise ActionRefused(window_closed_message())
    words = forbidden_words_in(text)
    if words:
        raise ActionRefused(
            _("El mensaje tiene palabras no permitidas: %(words)s. Cámbialas y vuelve a enviar.")
            % {"words": ", ".join(words)}
        )
    if reply_to is not None and reply_to.ticket_id not in _thread_ticket_ids(ticket):
        raise ActionRefused(_("Solo puedes responder a mensajes de este ticket."))
    public = _reply_visibility(ticket, reply_to) if is_public is None else is_public
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
        fields = ["last_message_preview", "last_agent_message_at"]
        ticket.last_message_preview = _preview(text) or (
            _file_name(files[0])[:PREVIEW_LENGTH] if files else ""
        )
        ticket.last_agent_message_at = now
        if not author.is_bot:
            # Only a person's answer stops the SLA clock and makes the ticket "addressed".
            _record_human_answer(ticket, author, now)
            fields += [
                "addressed",
                "awaiting_response",
                "first_response_at",
                "waiting_since",
                "sla_due_at",
                "sla_risk_at",
                "sla_breached",
            ]
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
    from channels_conn.base import ConnectorError, connector_for

    message = (
        Message.objects.select_related("ticket__customer", "account").filter(pk=message_id).first()
    )
    if message is None or message.status != DeliveryStatus.QUEUED:
        return  # delivered already (a redelivered task) or deleted
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
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.SENT,
            provider_id=result.provider_id or None,  # NULL, never "" (see the model)
            sent_at=timezone.now(),
        )
        if updated:
            message.refresh_from_db()
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
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status != DeliveryStatus.FAILED:
            raise ActionRefused(_("Solo se reintenta un mensaje que falló."))
        message.status = DeliveryStatus.QUEUED
        message.failure_reason = ""
        message.save(update_fields=["status", "failure_reason"])
        live.message_updated(message)
        _enqueue_delivery(message)
    return message


# --- ticket actions ------------------------------------------------------------------------


def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User | None) -> Ticket:
    """Assign to a person, the bot, or nobody (None)."""
    if assignee is not None and (assignee.tenant_id != ticket.tenant_id or not assignee.is_active):
        raise ActionRefused(_("Esa persona no puede recibir tickets."))
    with transaction.atomic():
        ticket = _lock(ticket)
        before = ticket.assignee_id
        if before == (assignee.pk if assignee else None):
            return ticket
        refused = assignment.refusal_for(assignee=assignee, ticket=ticket) if assignee else None
        if refused:
            raise ActionRefused(refused)
        ticket.assignee = assignee
        _event(
            ticket,
            EventKind.ASSIGNED,
            actor,
            before=before,
            after=assignee.pk if assignee else None,
            after_name=str(assignee) if assignee else "",
        )
        _touch(ticket, "assignee")
        if assignee is not None and not assignee.is_bot and assignee != actor:
            _notify(
                assignee,
                _("Te asignaron el ticket #%(n)s") % {"n": ticket.number},
                ticket,
                email=assignee.email_on_assignment,
            )
    return ticket


def ticket_close(*, ticket: Ticket, actor: User) -> Ticket:
    """Close an addressed ticket, ignore one nobody answered. Required typification first."""
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status != TicketStatus.OPEN:
            raise ActionRefused(_("El ticket ya no está abierto."))
        missing = missing_required(active_fields(MetadataField.Target.TICKET), ticket.metadata)
        if missing and ticket.addressed:
            raise ActionRefused(
                _("Completa la tipificación antes de cerrar: %(f)s.") % {"f": ", ".join(missing)}
            )
        after = TicketStatus.CLOSED if ticket.addressed else TicketStatus.IGNORED
        ticket.status = after
        ticket.closed_at = timezone.now()
        ticket.awaiting_response = False
        ticket.waiting_since = ticket.sla_due_at = ticket.sla_risk_at = None
        ticket.sla_breached = False
        _event(ticket, EventKind.STATUS, actor, before=TicketStatus.OPEN, after=after)
        _touch(
            ticket,
            "status",
            "closed_at",
            "awaiting_response",
            "waiting_since",
            "sla_due_at",
            "sla_risk_at",
            "sla_breached",
        )
        if ticket.assignee_id is not None:
            # A slot is free again: the queue may drain into it (after the commit).
            assignment.drain_queue(ticket.tenant_id)
    return ticket


def ticket_reopen(*, ticket: Ticket, actor: User) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status == TicketStatus.OPEN:
            return ticket
        if ticket.merged_into_id:
            raise ActionRefused(_("Un ticket fusionado no se reabre: usa el ticket de destino."))
        if Ticket.objects.filter(
            customer_id=ticket.customer_id, account_id=ticket.account_id, status=TicketStatus.OPEN
        ).exists():
            raise ActionRefused(_("El cliente ya tiene un ticket abierto en esta cuenta."))
        before = ticket.status
        ticket.status = TicketStatus.OPEN
        ticket.closed_at = None
        _event(ticket, EventKind.STATUS, actor, before=before, after=TicketStatus.OPEN)
        _touch(ticket, "status", "closed_at")
    return ticket


def ticket_mark_important(*, ticket: Ticket, actor: User) -> Ticket:
    """Irreversible on purpose: nothing unsets it."""
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.important:
            return ticket
        ticket.important = True
        _event(ticket, EventKind.IMPORTANT, actor, before=False, after=True)
        _touch(ticket, "important")
    return ticket


def ticket_set_sentiment(*, ticket: Ticket, actor: User, sentiment: str) -> Ticket:
    if sentiment not in Sentiment.values:
        raise ActionRefused(_("Sentimiento desconocido."))
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.sentiment == sentiment:
            return ticket
        before = ticket.sentiment
        ticket.sentiment = sentiment
        _event(ticket, EventKind.SENTIMENT, actor, before=before, after=sentiment)
        _touch(ticket, "sentiment")
    return ticket


def ticket_set_metadata(*, ticket: Ticket, actor: User, values: dict[str, Any]) -> Ticket:
    cleaned = clean_values(active_fields(MetadataField.Target.TICKET), values)
    with transaction.atomic():
        ticket = _lock(ticket)
        before = ticket.metadata
        if before == cleaned:
            return ticket
        ticket.metadata = cleaned
        _event(ticket, EventKind.METADATA, actor, before=before, after=cleaned)
        _touch(ticket, "metadata")
    return ticket


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


MENTION = re.compile(r"@([\w.+-]+@[\w-]+\.[\w.-]+|[\w.]+)")


def _mentioned_users(ticket: Ticket, text: str) -> list[User]:
    """@ana@tienda.cl or @ana (the part of the email before the @, or the first name)."""
    # A sentence's final period is not part of the handle ("gracias, @ana.").
    tokens = {t.lower().rstrip(".") for t in MENTION.findall(text)}
    if not tokens:
        return []
    people = User.objects.filter(tenant_id=ticket.tenant_id, is_active=True, is_bot=False)
    found = []
    for person in people:
        handles = {person.email.lower(), person.email.split("@")[0].lower()}
        if person.name:
            handles.add(person.name.split()[0].lower())
        if handles & tokens:
            found.append(person)
    return found


def comment_add(*, ticket: Ticket, author: User, text: str) -> Comment:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(_("El comentario está vacío."))
    with transaction.atomic():
        ticket = _lock(ticket)
        comment = Comment.objects.create(
            tenant_id=ticket.tenant_id, ticket=ticket, author=author, text=text
        )
        mentioned = [u for u in _mentioned_users(ticket, text) if u.pk != author.pk]
        for user in mentioned:
            CommentMention.objects.create(tenant_id=ticket.tenant_id, comment=comment, user=user)
            _notify(
                user,
                _("%(who)s te mencionó en el ticket #%(n)s") % {"who": author, "n": ticket.number},
                ticket,
                email=user.email_on_mention,
            )
        ticket.has_comments = True
        _event(
            ticket,
            EventKind.COMMENT,
            author,
            comment=comment.pk,
            mentions=[u.pk for u in mentioned],
        )
        _touch(ticket, "has_comments")
    return comment


def _notify(user: User, text: str, ticket: Ticket, *, email: bool) -> None:
    from helpdesk.notify import notify

    notify(user=user, text=text, url=f"/tickets/{ticket.number}/", email=email)


def ticket_notify(*, user: User, ticket: Ticket, text: str, email: bool) -> None:
    """The bell about ``ticket`` for ``user`` (pushed after the commit), and an email when
    ``email`` (the caller checks the person's preference)."""
    _notify(user, text, ticket, email=email)


def ticket_escalate(*, ticket: Ticket, actor: User, to: str, note: str) -> Ticket:
    """Email the customer's last messages to someone outside the team, with a note."""
    from django.core.validators import validate_email

    try:
        validate_email(to)
    except ValidationError:
        raise ActionRefused(_("«%(to)s» no es un correo válido.") % {"to": to}) from None
    with transaction.atomic():
        ticket = _lock(ticket)
        ticket.escalated_to = to
        ticket.escalated_at = timezone.now()
        _event(ticket, EventKind.ESCALATED, actor, to=to, note=note[:2000])
        _touch(ticket, "escalated_to", "escalated_at")
        from tickets.tasks import send_escalation

        tenant_id, ticket_id, actor_id = ticket.tenant_id, ticket.pk, actor.pk
        transaction.on_commit(
            lambda: send_escalation.delay(tenant_id, ticket_id, actor_id, to, note[:2000])
        )
    return ticket


def ticket_create(
    *,
    account: ChannelAccount,
    identity: str,
    author: User,
    text: str,
    customer_name: str = "",
    template: WhatsAppTemplate | None = None,
    params: Sequence[str] = (),
) -> Ticket:
    """A ticket an agent starts: the first message is ours, and the ticket is the author's.
    On WhatsApp the first message is usually an approved ``template`` with its ``params``."""
    kind = IDENTITY_OF_CHANNEL[account.kind]
    if template is not None:
        _check_template(account, template, params)
    elif not (text or "").strip():
        raise ActionRefused(_("Escribe el primer mensaje."))
    words = forbidden_words_in(text)
    if words:
        raise ActionRefused(
            _("El mensaje tiene palabras no permitidas: %(words)s. Cámbialas y vuelve a enviar.")
            % {"words": ", ".join(words)}
        )
    with transaction.atomic():
        customer, _identity = customer_resolve(
            tenant_id=account.tenant_id, kind=kind, value=identity, name=customer_name
        )
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if Ticket.objects.filter(
            customer=customer, account=account, status=TicketStatus.OPEN
        ).exists():
            raise ActionRefused(_("Ese cliente ya tiene un ticket abierto en esta cuenta."))
        previous = Ticket.objects.filter(customer=customer).order_by("-id").first()
        ticket = _ticket_new(customer, account, timezone.now(), previous=previous, author=author)
        _event(
            ticket, EventKind.ASSIGNED, author, before=None, after=author.pk, after_name=str(author)
        )
        if template is not None:
            message_send_template(ticket=ticket, author=author, template=template, params=params)
        else:
            message_send(ticket=ticket, author=author, text=text, is_public=False)
        ticket.refresh_from_db()
    return ticket


def customer_add_email(*, customer: Customer, email: str) -> None:
    """A web chat visitor left their email: it becomes one of their identities, unless another
    customer already owns it (then an agent can link them; nothing is merged silently)."""
    from django.core.validators import validate_email

    try:
        validate_email(email)
    except ValidationError:
        raise ActionRefused(_("«%(email)s» no es un correo válido.") % {"email": email}) from None
    value = normalize_identity(IdentityKind.EMAIL, email)
    with transaction.atomic():
        if CustomerIdentity.objects.filter(kind=IdentityKind.EMAIL, value=value).exists():
            return
        CustomerIdentity.objects.create(
            tenant_id=customer.tenant_id,
            customer=customer,
            kind=IdentityKind.EMAIL,
            value=value,
            display=value,
        )


# --- splitting and linking -----------------------------------------------------------------


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
    ticket.last_message_preview = _preview(last.text) if last else ""


def message_split(*, message: Message, actor: User) -> Ticket:
    """Move a customer's message that was threaded into the wrong ticket into a new ticket of
    its sender, on the same account. The new ticket waits for an answer like any other."""
    if message.direction != Direction.IN:
        raise ActionRefused(_("Solo se puede separar un mensaje del cliente."))
    with transaction.atomic():
        source = _lock(message.ticket)
        if source.status != TicketStatus.OPEN or source.merged_into_id:
            raise ActionRefused(_("Solo se separan mensajes de un ticket abierto."))
        if not Message.objects.filter(ticket=source).exclude(pk=message.pk).exists():
            raise ActionRefused(_("Es el único mensaje del ticket: no hay nada que separar."))
        sender = Customer.objects.select_for_update().get(pk=_message_sender(message).pk)
        account = ChannelAccount.objects.get(pk=message.account_id)
        target = _ticket_new(sender, account, message.created_at, previous=None)
        Message.objects.filter(pk=message.pk).update(ticket=target)
        target.subject = source.subject
        target.last_customer_message_at = message.created_at
        target.awaiting_response = True
        target.last_message_preview = _preview(message.text)
        _start_sla_clock(target, account, message.created_at)
        target.updated_at = timezone.now()
        target.save()
        _event(target, EventKind.SPLIT, actor, message=message.pk, from_ticket=source.number)
        _event(source, EventKind.SPLIT, actor, message=message.pk, to_ticket=target.number)
        _refresh_preview(source)
        _touch(source, "last_message_preview")
        live.ticket_changed(target, reason="customer_message")
        assignment.request_assignment(target)
    return target


LINKABLE_KINDS = (IdentityKind.EMAIL, IdentityKind.PHONE)


def _linkable_identity(kind: str, value: str) -> str:
    """The normalized value of an email or phone an agent types, or a refusal."""
    from django.core.validators import validate_email

    if kind == IdentityKind.EMAIL:
        try:
            validate_email(value.strip())
        except ValidationError:
            raise ActionRefused(
                _("«%(email)s» no es un correo válido.") % {"email": value}
            ) from None
    elif kind == IdentityKind.PHONE:
        if not 8 <= len(re.sub(r"\D", "", value)) <= 15:
            raise ActionRefused(
                _("«%(phone)s» no es un teléfono válido: usa el formato +56 9 1234 5678.")
                % {"phone": value}
            )
    else:
        raise ActionRefused(_("Solo se pueden vincular correos y teléfonos."))
    return normalize_identity(kind, value)


def customer_link_identity(
    *, customer: Customer, actor: User, kind: str, value: str, ticket: Ticket | None = None
) -> CustomerIdentity:
    """Link another email or phone to a customer: their messages from it now arrive as this
    customer. When another customer record had it, the identity moves here; if that record is
    left with no way to reach it, its tickets move here too and the empty record goes, so
    nothing is lost and nothing is merged behind the agent's back."""
    normalized = _linkable_identity(kind, value)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        identity = (
            CustomerIdentity.objects.select_for_update()
            .select_related("customer")
            .filter(kind=kind, value=normalized)
            .first()
        )
        moved_tickets: list[int] = []
        if identity is not None and identity.customer_id == customer.pk:
            raise ActionRefused(_("Esa identidad ya es de este cliente."))
        if identity is None:
            identity = CustomerIdentity.objects.create(
                tenant_id=customer.tenant_id,
                customer=customer,
                kind=kind,
                value=normalized,
                display=display_identity(kind, normalized),
            )
        else:
            previous = Customer.objects.select_for_update().get(pk=identity.customer_id)
            identity.customer = customer
            identity.save(update_fields=["customer"])
            if not previous.identities.exists():
                moved_tickets = list(previous.tickets.values_list("number", flat=True))
                previous.tickets.update(customer=customer)
                previous.delete()
        if ticket is not None:
            _event(
                ticket,
                EventKind.IDENTITY,
                actor,
                identity=identity.display or identity.value,
                moved_tickets=moved_tickets,
            )
            live.ticket_changed(ticket)
    return identity


# --- departments ---------------------------------------------------------------------------


def ticket_set_department(*, ticket: Ticket, department: Department | None, actor: User) -> Ticket:
    """Move a ticket to a department (or to none). An unassigned open ticket then asks the
    assignment engine, which looks for someone in its new department."""
    if department is not None and department.tenant_id != ticket.tenant_id:
        raise ActionRefused(_("Ese departamento no existe."))
    with transaction.atomic():
        ticket = _lock(ticket)
        before = ticket.department_id
        if before == (department.pk if department else None):
            return ticket
        ticket.department = department
        _event(
            ticket,
            EventKind.DEPARTMENT,
            actor,
            before=before,
            after=department.pk if department else None,
            after_name=department.name if department else "",
        )
        _touch(ticket, "department")
        if ticket.assignee_id is None and ticket.status == TicketStatus.OPEN:
            assignment.request_assignment(ticket)
    return ticket


# --- WhatsApp templates --------------------------------------------------------------------


def window_closed_message() -> str:
    return _(
        "Han pasado más de 24 horas desde el último mensaje del cliente: en WhatsApp solo "
        "puedes responder con una plantilla aprobada."
    )


def _check_template(
    account: ChannelAccount, template: WhatsAppTemplate, params: Sequence[str]
) -> str:
    """The template's body filled with ``params``, or ActionRefused saying what is wrong."""
    name = template.name
    if account.kind != ChannelKind.WHATSAPP:
        raise ActionRefused(_("Las plantillas de WhatsApp solo se envían por WhatsApp."))
    if template.tenant_id != account.tenant_id or template.account_id != account.pk:
        raise ActionRefused(
            _("La plantilla «%(name)s» es de otra cuenta de WhatsApp.") % {"name": name}
        )
    if template.status != WhatsAppTemplate.Status.APPROVED:
        raise ActionRefused(
            _("La plantilla «%(name)s» no está aprobada por WhatsApp (%(status)s).")
            % {"name": name, "status": template.get_status_display()}
        )
    wanted = placeholder_count(template.body)
    if len(params) != wanted:
        raise ActionRefused(
            _("La plantilla «%(name)s» lleva %(n)s parámetros y llegaron %(got)s.")
            % {"name": name, "n": wanted, "got": len(params)}
        )
    cleaned = [str(p).strip() for p in params]
    for number, value in enumerate(cleaned, start=1):
        if not value:
            raise ActionRefused(
                _("Completa el parámetro {{%(n)s}} de la plantilla.") % {"n": number}
            )
        # WhatsApp refuses parameters with new lines, tabs or more than 4 spaces in a row.
        if re.search(r"[\n\r\t]| {5,}", value):
            raise ActionRefused(
                _(
                    "El parámetro {{%(n)s}} no puede tener saltos de línea, tabulaciones ni "
                    "más de 4 espacios seguidos."
                )
                % {"n": number}
            )
    words = forbidden_words_in(" ".join(cleaned))
    if words:
        raise ActionRefused(
            _("El mensaje tiene palabras no permitidas: %(words)s. Cámbialas y vuelve a enviar.")
            % {"words": ", ".join(words)}
        )
    return fill_template(template.body, cleaned)


def message_send_template(
    *, ticket: Ticket, author: User, template: WhatsAppTemplate, params: Sequence[str]
) -> Message:
    """Queue an approved WhatsApp template with its {{1}}…{{n}} ``params``: the message's text
    is the filled body, and its MESSAGE_OUT event records the template for the connector.
    Allowed inside and outside the 24-hour window."""
    if not is_whatsapp(ticket):
        raise ActionRefused(_("Las plantillas de WhatsApp solo se envían por WhatsApp."))
    text = _check_template(ticket.account, template, params)
    sent = SentTemplate(
        template_id=template.pk,
        name=template.name,
        language=template.language,
        params=tuple(str(p).strip() for p in params),
    )
    return message_send(ticket=ticket, author=author, text=text, is_public=False, template=sent)
