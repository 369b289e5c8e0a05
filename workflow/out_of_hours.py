"""The out-of-hours reply: the bot's answer to a customer who writes while the account's
schedule is closed (the schedule arithmetic is :mod:`deskconfig.business_hours`)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from deskconfig.business_hours import is_open, last_closing, schedule_for
from workflow.batch_cache import cached

if TYPE_CHECKING:
    from tickets.models import Message, Ticket


def out_of_hours_reply(ticket: Ticket, message: Message, *, created: bool) -> None:
    """The account's out-of-hours reply, when its schedule is closed at the message's time.

    At most once per ticket and closed stretch: the bot's reply is marked ``out_of_hours``
    (with the customer message's time) in its MESSAGE_OUT event, and a reply already sent
    since the schedule last closed is enough. Never to automatic mail, nor to a customer with
    the bot turned off."""
    del created  # also on follow-ups of an open ticket
    from tickets.models import Event, EventKind
    from workflow.automation import automation_of, is_automatic

    automation = automation_of(ticket.account_id)
    if automation is None or not automation.out_of_hours_enabled:
        return
    if not automation.out_of_hours_text.strip() or ticket.customer.bot_disabled:
        return
    if is_automatic(message):
        return
    account = ticket.account
    schedule = cached(("schedule", account.pk), lambda: schedule_for(account))
    at = message.created_at
    if schedule is None or is_open(schedule, at):
        return
    closed_since = last_closing(schedule, at)
    previous = (
        Event.objects.filter(ticket=ticket, kind=EventKind.MESSAGE_OUT, data__out_of_hours=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if previous is not None:
        answered = datetime.datetime.fromisoformat(previous.data["at"])
        if closed_since is None or answered >= closed_since:
            return
    _send_out_of_hours(ticket, automation.out_of_hours_text, at)


def _send_out_of_hours(ticket: Ticket, text: str, at: datetime.datetime) -> None:
    from tickets.models import Event, EventKind
    from workflow.bot import bot_send

    reply = bot_send(ticket, text)
    if reply is None:
        return
    event = Event.objects.filter(
        ticket=ticket, kind=EventKind.MESSAGE_OUT, data__message=reply.pk
    ).first()
    if event is not None:
        event.data = {**event.data, "out_of_hours": True, "at": at.isoformat()}
        event.save(update_fields=["data"])
