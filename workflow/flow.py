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

from typing import TYPE_CHECKING

from workflow import assignment, automation, out_of_hours, routing, skills_bot

if TYPE_CHECKING:
    from tickets.models import Message, Ticket


def after_receive(ticket: Ticket, message: Message, *, created: bool) -> None:
    if created:
        routing.apply_rules(ticket, message)
    automation.on_customer_message(ticket, message, created=created)
    out_of_hours.out_of_hours_reply(ticket, message, created=created)
    skills_bot.on_customer_message(ticket, message, created=created)
    if ticket.assignee_id is None and ticket.bot_stage != skills_bot.ASKING:
        assignment.request_assignment(ticket)
