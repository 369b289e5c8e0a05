"""The assignment engine: who gets a ticket that nobody has.

The public API, used by the receiving flow, the ticket services and the administration:

- :func:`request_assignment` after a ticket is created or returned to the queue;
- :func:`drain_queue` when someone may have become eligible (connected, available again,
  closed a ticket, got a higher limit or an automatic account).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickets.models import Ticket


def request_assignment(ticket: Ticket) -> None:
    """Place ``ticket`` with an eligible agent once the current transaction commits."""
    del ticket  # the engine is built in the assignment work (issue 6 #4)


def drain_queue(tenant_id: int) -> None:
    """Give the tenant's queued tickets, oldest first, to whoever is eligible now."""
    del tenant_id  # the engine is built in the assignment work (issue 6 #4)
