"""What the tickets app pushes after a commit: the ticket's snapshot to its tenant (the inbox
matches it against columns) and rendered messages to the pages showing that ticket."""

from __future__ import annotations

import threading
import zoneinfo
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from helpdesk.live import publish

if TYPE_CHECKING:
    from tickets.cards import LiveCard

# tickets.cards is imported where a card is rendered: it needs tickets.sla, which imports
# this module (the cycle broke whichever of them was imported first).


def ticket_group(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


def inbox_group(tenant_id: int) -> str:
    """The tenant's open inboxes: one member per process (tickets.consumers_inbox.InboxHub)."""
    return f"inbox-{tenant_id}"


def ticket_snapshot(ticket: Any) -> dict[str, Any]:
    """Everything a column filter looks at, as JSON-safe values."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": ticket.pk,
        "number": ticket.number,
        "tenant_id": ticket.tenant_id,
        "status": ticket.status,
        "assignee_id": ticket.assignee_id,
        "department_id": ticket.department_id,
        "account_id": ticket.account_id,
        "channel": ticket.account.kind,
        "assignee_is_bot": bool(ticket.assignee and ticket.assignee.is_bot),
        "customer_id": ticket.customer_id,
        "important": ticket.important,
        "sentiment": ticket.sentiment,
        "addressed": ticket.addressed,
        "awaiting_response": ticket.awaiting_response,
        "has_comments": ticket.has_comments,
        "has_metadata": bool(ticket.metadata),
        "sla_due_at": iso(ticket.sla_due_at),
        "sla_risk_at": iso(ticket.sla_risk_at),
        "sla_breached": ticket.sla_breached,
        "updated_at": iso(ticket.updated_at),
        "created_at": iso(ticket.created_at),
        "waiting_since": iso(ticket.waiting_since),
        "merged_into_id": ticket.merged_into_id,
    }


_pending = threading.local()


def _pending_reasons() -> dict[int, str]:
    reasons: dict[int, str] | None = getattr(_pending, "reasons", None)
    if reasons is None:
        reasons = _pending.reasons = {}
    return reasons


def ticket_changed(ticket: Any, *, reason: str = "") -> None:
    """After the commit, tell the tenant's inboxes and the ticket's pages. ``reason`` is
    "customer_message" when a customer wrote (columns may ring for it).

    Coalesced: however often a transaction changes one ticket (a batch of mails on it), it is
    published once, from its committed state; a customer's message wins as the reason."""
    ticket_id = ticket.pk
    reasons = _pending_reasons()
    if reason or ticket_id not in reasons:
        reasons[ticket_id] = reason

    def send() -> None:
        # The first callback of this ticket to run publishes; the others find nothing. (Each
        # call registers one, so a savepoint rolled back with its callback loses nothing.)
        if ticket_id in reasons:
            publish_ticket(ticket_id, reason=reasons.pop(ticket_id))

    # Pushes are best effort (robust): the change is committed, and a push that fails (the
    # channel layer unreachable, a template error) must not fail the caller nor keep the
    # callbacks queued after it (a reply's delivery) from running; the error is logged.
    transaction.on_commit(send, robust=True)


def tickets_changed(tickets: list[Any], *, reason: str = "") -> None:
    """:func:`ticket_changed` for a batch (a batch of received messages): one callback that
    reads the tickets still pending in one query and publishes each once."""
    reasons = _pending_reasons()
    ids = []
    for ticket in tickets:
        if reason or ticket.pk not in reasons:
            reasons[ticket.pk] = reason
        ids.append(ticket.pk)

    def send() -> None:
        due = {pk: reasons.pop(pk) for pk in ids if pk in reasons}
        if due:
            _publish_tickets(due)

    transaction.on_commit(send, robust=True)


def _publish_tickets(reasons: dict[int, str]) -> None:
    from tickets.models import Ticket

    rows = Ticket.objects.select_related("account", "assignee", "customer", "tenant").filter(
        pk__in=list(reasons)
    )
    for ticket in sorted(rows, key=lambda t: t.pk):
        _publish_loaded(ticket, reasons[ticket.pk])


def thread_replaced(ticket: Any) -> None:
    """After the commit, tell the ticket's open pages to fetch its conversation again (a
    merge brings another ticket's messages in, older ones among them)."""
    group = ticket_group(ticket.pk)
    transaction.on_commit(
        lambda: publish(group, {"event": "ticket", "refresh": "thread"}), robust=True
    )


def render_card(ticket: Any) -> LiveCard:
    """The ticket's card with its slots left open: each inbox consumer puts its column id in
    one, and in the other "new" for a customer's new message, "ring" when the column also rings
    for it (tickets.cards.fill_card)."""
    tenant = ticket.tenant
    with (
        translation.override(tenant.language),
        timezone.override(zoneinfo.ZoneInfo(tenant.time_zone)),
    ):
        from tickets.cards import CardRenderer

        return CardRenderer().ticket_live(ticket)


def publish_ticket(ticket_id: int, *, reason: str = "") -> None:
    """One query, one card render and one send per group, whatever the number of agents."""
    from tickets.models import Ticket

    ticket = (
        Ticket.objects.select_related("account", "assignee", "customer", "tenant")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is not None:
        _publish_loaded(ticket, reason)


def _publish_loaded(ticket: Any, reason: str) -> None:
    snapshot = ticket_snapshot(ticket)
    publish(
        inbox_group(ticket.tenant_id),
        {"event": "ticket", "snapshot": snapshot, "card": render_card(ticket), "reason": reason},
    )
    publish(ticket_group(ticket.pk), {"event": "ticket", "refresh": "header"})


def message_snapshot(message: Any) -> dict[str, Any]:
    """What a message column filter looks at (with its ticket's part)."""
    return {
        "id": message.pk,
        "channel": message.account.kind,
        "account_id": message.account_id,
        "direction": message.direction,
        "author_kind": message.author_kind,
        "is_public": message.is_public,
        "is_mention": message.is_mention,
        "created_at": message.created_at.isoformat(),
        "ticket": ticket_snapshot(message.ticket),
    }


def _publish_message(message_id: int, *, new: bool) -> None:
    """The thread's pages get the message; on a new one, the tenant's inboxes get its card for
    their message columns (one render each, one send per group)."""
    from tickets.queries import message_for_push

    message = message_for_push(message_id)
    if message is not None:
        _publish_message_loaded(message, new=new)


def _publish_message_loaded(message: Any, *, new: bool, thread: bool = True) -> None:
    """``thread=False``: no page can show the message's thread yet (its ticket is new)."""
    from tickets.cards import CardRenderer

    tenant = message.tenant
    with (
        translation.override(tenant.language),
        timezone.override(zoneinfo.ZoneInfo(tenant.time_zone)),
    ):
        html = ""
        if thread:
            html = render_to_string(
                "tickets/partials/message.html",
                {"m": message, "pushed": True, "oob": "beforeend:#thread" if new else "true"},
            )
        card = CardRenderer().message_live(message) if new else []
    if thread:
        publish(ticket_group(message.ticket_id), {"event": "message", "html": html})
    if new:
        publish(
            inbox_group(message.tenant_id),
            {"event": "message", "snapshot": message_snapshot(message), "card": card},
        )


def _message_push(message: Any, *, new: bool) -> None:
    message_id = message.pk

    def send() -> None:
        _publish_message(message_id, new=new)

    transaction.on_commit(send, robust=True)  # best effort, as in ticket_changed


def message_added(message: Any) -> None:
    _message_push(message, new=True)


def message_updated(message: Any) -> None:
    _message_push(message, new=False)


def messages_added(messages: list[Any], *, new_tickets: frozenset[int] = frozenset()) -> None:
    """:func:`message_added` for a batch: one callback, the messages read in one query. The
    messages of ``new_tickets`` (created by this transaction) go to the inboxes only: no page
    showed those threads before the commit, and one opened since reads them from the
    database (a batch of new conversations renders half as much)."""
    ids = [m.pk for m in messages]

    def send() -> None:
        from tickets.queries import messages_for_push

        for message in messages_for_push(ids):
            thread = message.ticket_id not in new_tickets
            _publish_message_loaded(message, new=True, thread=thread)

    if ids:
        transaction.on_commit(send, robust=True)


def post_snapshot(post: Any) -> dict[str, Any]:
    """What a scheduled-post column filter looks at."""
    return {
        "id": post.pk,
        "account_id": post.account_id,
        "channel": post.account.kind,
        "status": post.status,
        "publish_at": post.publish_at.isoformat(),
    }


def publish_post(post_id: int) -> None:
    """One query, one card render and one send, whatever the number of inboxes."""
    from tickets.cards import CardRenderer
    from tickets.models import ScheduledPost

    post = (
        ScheduledPost.objects.select_related("account", "created_by", "tenant")
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        return
    tenant = post.tenant
    with (
        translation.override(tenant.language),
        timezone.override(zoneinfo.ZoneInfo(tenant.time_zone)),
    ):
        card = CardRenderer().post_live(post)
    publish(
        inbox_group(post.tenant_id),
        {"event": "post", "snapshot": post_snapshot(post), "card": card},
    )


def post_changed(post: Any) -> None:
    """After the commit, update the scheduled-post columns of the tenant's open inboxes. Call
    it whenever a ScheduledPost is created, rescheduled, published, failed or cancelled."""
    post_id = post.pk
    transaction.on_commit(lambda: publish_post(post_id), robust=True)  # best effort
