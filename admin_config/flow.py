"""What happens to a customer's message after it is stored, in order.

``message_receive`` calls :func:`after_receive` inside its transaction, once the message and
the ticket are saved and before the live push, so agents see the ticket already routed.
Each step lives in its own module:

1. routing rules (new tickets only): department, important, a chosen agent;
2. automatic replies: welcome on a new ticket, out-of-hours;
3. the skills bot: asks for a department, reads the answer;
4. the assignment engine: gives an unassigned ticket to an eligible agent (after commit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickets.models import Message, Ticket


def after_receive(ticket: Ticket, message: Message, *, created: bool) -> None:
    del ticket, message, created  # the steps join here as they are built
