"""What agents do to a ticket: assign, close, reopen, mark important, sentiment, typification,
comments with mentions, notifications, escalation by email, a new ticket, its department."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.accounts import ChannelAccount
from deskconfig.models import Department, MetadataField
from helpdesk.models import User
from tickets import hooks
from tickets.metadata import active_fields, clean_values, missing_required
from tickets.models import (
    IDENTITY_OF_CHANNEL,
    Comment,
    CommentMention,
    Customer,
    EventKind,
    Message,
    Sentiment,
    Ticket,
    TicketStatus,
)
from tickets.services.base import ActionRefused, _event, _lock, _touch, forbidden_words_in
from tickets.services.customers import customer_resolve
from tickets.services.messages import message_send
from tickets.services.receive import _ticket_new


def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User | None) -> Ticket:
    """Assign to a person, the bot, or nobody (None)."""
    if assignee is not None and (assignee.tenant_id != ticket.tenant_id or not assignee.is_active):
        raise ActionRefused(_("Esa persona no puede recibir tickets."))
    with transaction.atomic():
        ticket = _lock(ticket)
        before = ticket.assignee_id
        if before == (assignee.pk if assignee else None):
            return ticket
        refused = (
            hooks.workflow().assignment_refusal(assignee=assignee, ticket=ticket)
            if assignee
            else None
        )
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
            hooks.workflow().drain_queue(ticket.tenant_id)
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
    first_message: Callable[[Ticket], Message] | None = None,
) -> Ticket:
    """A ticket an agent starts: the first message is ours, and the ticket is the author's.

    ``first_message`` sends something else than ``text`` as the first message, inside the same
    transaction (WhatsApp's ``ticket_create_with_template``: an approved template)."""
    kind = IDENTITY_OF_CHANNEL[account.kind]
    if first_message is None and not (text or "").strip():
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
        if first_message is not None:
            first_message(ticket)
        else:
            message_send(ticket=ticket, author=author, text=text, is_public=False)
        ticket.refresh_from_db()
    return ticket


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
            hooks.workflow().request_assignment(ticket)
    return ticket
