"""The escalation email: the customer's last messages and the agent's note."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from helpdesk.models import User
from tickets.models import Message, Ticket
from tickets.services import ESCALATION_MESSAGES


def send(*, ticket_id: int, actor_id: int, to: str, note: str) -> None:
    ticket = Ticket.objects.select_related("customer", "account", "tenant").get(pk=ticket_id)
    actor = User.objects.filter(pk=actor_id).first()
    messages = list(
        Message.objects.filter(ticket__customer_id=ticket.customer_id)
        .select_related("author")
        .order_by("-created_at", "-id")[:ESCALATION_MESSAGES]
    )
    messages.reverse()
    with translation.override(ticket.tenant.language):
        subject = render_to_string(
            "tickets/email/escalation_subject.txt", {"ticket": ticket}
        ).strip()
        body = render_to_string(
            "tickets/email/escalation.txt",
            {"ticket": ticket, "actor": actor, "note": note, "messages": messages},
        )
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[actor.email] if actor else None,
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.send(fail_silently=False)
