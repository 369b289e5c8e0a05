"""Automatic actions of an account, done by the bot: the welcome reply on a new ticket, and
(as beat tasks) closing or ignoring tickets left without an answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickets.models import Message, Ticket


def on_customer_message(ticket: Ticket, message: Message, *, created: bool) -> None:
    del ticket, message, created  # built with the automatic actions (issue 6 #6)
