"""The skills bot: asks a new ticket's customer which department they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickets.models import Message, Ticket

ASKING = "asking"  # Ticket.bot_stage while the bot waits for the customer's choice


def on_customer_message(ticket: Ticket, message: Message, *, created: bool) -> None:
    del ticket, message, created  # built with the skills bot (issue 6 #7)
