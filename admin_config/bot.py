"""Messages the tenant's bot user sends: automatic replies and the skills bot's questions."""

from __future__ import annotations

import logging

from helpdesk.models import User
from tickets.models import Message, Ticket
from tickets.quick import fill_variables
from tickets.services import ActionRefused, message_send

log = logging.getLogger(__name__)


def tenant_bot_user(tenant_id: int) -> User:
    return User.objects.get(tenant_id=tenant_id, is_bot=True)


def bot_send(ticket: Ticket, text: str) -> Message | None:
    """Send ``text`` (with {cliente} and {ticket} filled) as the bot on ``ticket``.

    A message the configuration cannot send (empty, or with forbidden words) is skipped and
    logged: an automatic reply must never break the receiving of a customer's message."""
    bot = tenant_bot_user(ticket.tenant_id)
    body = fill_variables(text, ticket=ticket, agent=bot).strip()
    if not body:
        return None
    try:
        return message_send(ticket=ticket, author=bot, text=body)
    except ActionRefused as refused:
        log.warning("bot message not sent on ticket %s: %s", ticket.pk, refused)
        return None
