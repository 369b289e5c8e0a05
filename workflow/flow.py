"""What happens to a customer's message after it is stored, in order.

``message_receive`` calls :func:`after_receive` (through ``tickets.hooks``, registered in
``workflow.apps``) inside its transaction, once the message and
the ticket are saved and before the live push, so agents see the ticket already routed.
Each step lives in its own module:

1. routing rules (new tickets only): department, important, a chosen agent;
2. automatic replies: welcome on a new ticket, then out-of-hours;
3. the skills bot: asks a new ticket's customer for a department, reads the answer;
4. the assignment engine: an unassigned ticket goes to an eligible agent (unless the skills
   bot is still waiting for the customer's choice).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from workflow import assignment, automation, batch_cache, out_of_hours, routing, skills_bot

if TYPE_CHECKING:
    from tickets.hooks import Arrival
    from tickets.models import Message, Ticket


def after_receive(ticket: Ticket, message: Message, *, created: bool) -> None:
    if _steps(ticket, message, created=created):
        assignment.request_assignment(ticket)


def _steps(ticket: Ticket, message: Message, *, created: bool) -> bool:
    """Steps 1-3; whether the ticket then needs the assignment engine (step 4)."""
    if created:
        routing.apply_rules(ticket, message)
    automation.on_customer_message(ticket, message, created=created)
    out_of_hours.out_of_hours_reply(ticket, message, created=created)
    skills_bot.on_customer_message(ticket, message, created=created)
    return ticket.assignee_id is None and ticket.bot_stage != skills_bot.ASKING


def after_receive_batch(arrivals: Sequence[Arrival]) -> None:
    """:func:`after_receive` for each arrival, in order, with the configuration read once
    (``batch_cache``): the batch already knows which of its messages a robot sent, and the
    tickets left for the engine are placed together after the commit."""
    if not arrivals:
        return
    seed: dict[Hashable, Any] = {
        ("auto_submitted", a.message.pk): a.auto_submitted for a in arrivals
    }
    queued: dict[int, Ticket] = {}
    with batch_cache.scope(seed):
        for arrival in arrivals:
            ticket = arrival.ticket
            if _steps(ticket, arrival.message, created=arrival.created):
                queued[ticket.pk] = ticket
            else:
                queued.pop(ticket.pk, None)
    assignment.request_assignment_many(arrivals[0].ticket.tenant_id, list(queued.values()))
