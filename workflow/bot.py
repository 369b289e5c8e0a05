"""Messages the tenant's bot user sends: automatic replies and the skills bot's questions."""

from __future__ import annotations

import logging

from helpdesk.models import User
from helpdesk.services import bot_user_create
from tickets.models import Message, Ticket
from tickets.quick import fill_variables
from tickets.services import ActionRefused, message_send

log = logging.getLogger(__name__)


def tenant_bot_user(tenant_id: int) -> User:
    """The tenant's bot; made on the spot for a tenant created without one (not through
    ``tenant_create``), so a customer's message is never refused for its lack."""
    bot = User.objects.filter(tenant_id=tenant_id, is_bot=True).first()
    return bot or bot_user_create(tenant_id=tenant_id, handle=str(tenant_id))


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
