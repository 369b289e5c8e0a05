"""The inbox's live matching: a ticket event in, out-of-band swaps for this person's columns.

Everything needed is loaded once when the socket opens (the columns and the person's open
tickets); an event costs no database query: the snapshot is matched in memory against each
column's filter and the card HTML, rendered once by the publisher, is reused."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape

from tickets.filters import MessageFilter, TicketFilter
from tickets.live import CARD_ALERT, CARD_COLUMN


@dataclass(frozen=True)
class LiveColumn:
    pk: int
    kind: str
    ticket_filter: TicketFilter | None
    message_filter: MessageFilter | None
    alert: bool  # sound or desktop notification on new customer messages


@dataclass
class InboxState:
    columns: list[LiveColumn]
    mine: dict[int, tuple[bool, bool]]  # my open tickets: id -> (addressed, awaiting)


def load_state(user_id: int) -> InboxState:
    """Runs once per connection, in the tenant context."""
    from helpdesk.models import User
    from tickets.inbox import message_filter, my_open_tickets, ticket_filter
    from tickets.models import Column, ColumnKind

    user = User.objects.select_related("tenant").get(pk=user_id)
    columns = []
    for c in Column.objects.filter(user=user).order_by("position", "id"):
        columns.append(
            LiveColumn(
                pk=c.pk,
                kind=c.kind,
                ticket_filter=ticket_filter(c, user) if c.kind == ColumnKind.TICKETS else None,
                message_filter=message_filter(c, user) if c.kind == ColumnKind.MESSAGES else None,
                alert=c.sound or c.desktop_notify,
            )
        )
    return InboxState(columns=columns, mine=my_open_tickets(user))


def ticket_swaps(state: InboxState, event: dict[str, Any], now: datetime.datetime) -> str:
    """The swaps one ticket event makes in this person's columns."""
    s = event["snapshot"]
    card = event.get("card", "")
    fresh = event.get("reason") == "customer_message"
    out = []
    for col in state.columns:
        if col.ticket_filter is None:
            continue
        card_id = f"c{col.pk}-t{s['id']}"
        # Remove the card wherever it is; put it back in place if it still matches.
        out.append(f'<div id="{card_id}" hx-swap-oob="delete"></div>')
        if col.ticket_filter.matches(s, now):
            alert = ("ring" if col.alert else "new") if fresh else ""
            body = card.replace(CARD_COLUMN, str(col.pk)).replace(CARD_ALERT, alert)
            # The page puts the card in its place by the column's order (static/js/inbox.js).
            out.append(f'<div hx-swap-oob="afterbegin:#col-{col.pk}-cards">{body}</div>')
    return "".join(out)


def message_swaps(state: InboxState, event: dict[str, Any]) -> str:
    """A new message's card goes on top of every message column it matches."""
    s = event["snapshot"]
    card = event.get("card", "")
    out = []
    for col in state.columns:
        if col.message_filter is not None and col.message_filter.matches(s):
            body = card.replace(CARD_COLUMN, str(col.pk))
            out.append(f'<div hx-swap-oob="afterbegin:#col-{col.pk}-cards">{body}</div>')
    return "".join(out)


def metrics_swap(state: InboxState, event: dict[str, Any], user_id: int) -> str:
    """Update my counters from the snapshot; '' when they did not change."""
    s = event["snapshot"]
    before = _counts(state.mine)
    mine = s["assignee_id"] == user_id and s["status"] == "open" and s["merged_into_id"] is None
    if mine:
        state.mine[s["id"]] = (bool(s["addressed"]), bool(s["awaiting_response"]))
    else:
        state.mine.pop(s["id"], None)
    after = _counts(state.mine)
    if after == before:
        return ""
    return "".join(
        f'<span id="metric-{name}" hx-swap-oob="true">{escape(value)}</span>'
        for name, value in zip(("open", "addressed", "waiting"), after, strict=True)
    )


def _counts(mine: dict[int, tuple[bool, bool]]) -> tuple[int, int, int]:
    return (
        len(mine),
        sum(1 for addressed, _w in mine.values() if addressed),
        sum(1 for _a, waiting in mine.values() if waiting),
    )
