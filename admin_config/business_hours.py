"""Business hours: is a schedule open at a moment, and business-time arithmetic for SLAs.

Public API (used by the SLA clock and the out-of-hours reply):

- :func:`schedule_for` the schedule that applies to an account (its own, else the main one);
- :func:`is_open` whether a schedule is open at an aware datetime;
- :func:`add_business_minutes` the moment ``minutes`` of business time after a start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickets.models import Message, Ticket


def out_of_hours_reply(ticket: Ticket, message: Message, *, created: bool) -> None:
    """The account's out-of-hours reply, when its schedule is closed."""
    del ticket, message, created  # built with business hours (issue 6 #5, #6)
